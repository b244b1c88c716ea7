/*
 * scsi_pr.h - reservations of a logical unit (scsi_pr.c): SPC-4
 * persistent reservations (registrations and one reservation, per I_T
 * nexus) and the older RESERVE/RELEASE (6 and 10), with the unit
 * attentions they raise. One struct scsi_pr per unit, found by the unit's
 * name and shared by every session on it; thread-safe.
 */
#ifndef FB_SCSI_PR_H
#define FB_SCSI_PR_H

#include "iscsi/scsi_lu.h"

/* The state of the unit named name, made (and, from aptpl_path, reloaded)
 * on first use; counted. aptpl_path NULL: nothing is kept on disk and
 * APTPL=1 is refused. NULL with errno when out of memory. */
struct scsi_pr *scsi_pr_get(const char *name, const char *aptpl_path);
void scsi_pr_put(struct scsi_pr *pr);
/* Anything for scsi_pr_check to look at (a reservation, a pending unit
 * attention)? A lock-free hint; the check itself takes the lock. */
int scsi_pr_active(struct scsi_pr *pr);
/* Before a command of prclass (enum scsi_prclass) from port: report a
 * pending unit attention (unless no_ua) or a reservation conflict into r.
 * 1 when r is answered, 0 to run the command. */
int scsi_pr_check(struct scsi_pr *pr, const char *port, int prclass, int no_ua, struct scsi_req *r);
/* The I_T nexus of port is gone: its RESERVE(6) reservation ends. */
void scsi_pr_nexus_lost(struct scsi_pr *pr, const char *port);
/* LOGICAL UNIT RESET, target reset: any RESERVE(6) reservation ends. */
void scsi_pr_lu_reset(struct scsi_pr *pr);
/* A unit attention (asc/ascq) for the I_T nexus of port, reported by its
 * next command (a reset's "bus device reset function occurred"). */
void scsi_pr_unit_attention(struct scsi_pr *pr, const char *port, uint8_t asc, uint8_t ascq);

#endif
