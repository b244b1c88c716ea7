/*
 * scsi_lu.h - a SCSI block logical unit (SBC-3 direct-access device)
 * emulated over a struct fb_blockdev. Transport independent: the iSCSI
 * target hands over a CDB and the data-out it collected, and gets back
 * status, sense data and data-in. Called from I/O threads; one unit may be
 * used by several threads (and sessions) at once.
 */
#ifndef FB_SCSI_LU_H
#define FB_SCSI_LU_H

#include <pthread.h>
#include <stdint.h>

#include "blockdev.h"

#define SCSI_STATUS_GOOD                 0x00
#define SCSI_STATUS_CHECK_CONDITION      0x02
#define SCSI_STATUS_CONDITION_MET        0x04
#define SCSI_STATUS_BUSY                 0x08
#define SCSI_STATUS_RESERVATION_CONFLICT 0x18
#define SCSI_STATUS_TASK_SET_FULL        0x28
#define SCSI_STATUS_TASK_ABORTED         0x40

#define SCSI_SENSE_NO_SENSE        0x0
#define SCSI_SENSE_NOT_READY       0x2
#define SCSI_SENSE_MEDIUM_ERROR    0x3
#define SCSI_SENSE_HARDWARE_ERROR  0x4
#define SCSI_SENSE_ILLEGAL_REQUEST 0x5
#define SCSI_SENSE_UNIT_ATTENTION  0x6
#define SCSI_SENSE_DATA_PROTECT    0x7
#define SCSI_SENSE_ABORTED_COMMAND 0xb
#define SCSI_SENSE_MISCOMPARE      0xe

/* Largest transfer the unit accepts in one command (reported in VPD B0). */
#define SCSI_MAX_XFER_BYTES (8u << 20)

/* An initiator port as reservations name it: "iname,i,0xISID" (SPC-4
 * iSCSI TransportID format 01b). */
#define SCSI_PORT_LEN 288

struct scsi_pr;

struct scsi_lu {
	struct fb_blockdev *bd; /* the disk; its size and block size are used */
	uint64_t nblocks;       /* bd->size / block size */
	uint32_t bs;            /* logical block size */
	char serial[33];        /* unit serial number (VPD 0x80) */
	char name[224];         /* the target name, for VPD 0x83 */
	uint8_t naa[16];        /* NAA 6 identifier derived from name */
	/* COMPARE AND WRITE is atomic against every other write to the same
	 * disk, from any session: one of a set of striped locks chosen by
	 * the disk's address (see scsi_lu.c). */
	pthread_rwlock_t *wlock;
	/* Registrations and reservations, shared by every session on this
	 * unit (scsi_pr.c); NULL until scsi_lu_attach. */
	struct scsi_pr *pr;
	char port[SCSI_PORT_LEN]; /* this session's initiator port */
};

/* One command. The caller fills the inputs; scsi_lu_exec the outputs. */
struct scsi_req {
	const uint8_t *cdb; /* 16 bytes */
	const uint8_t *out; /* data-out received */
	uint32_t out_len;   /* its length */
	uint32_t edtl;      /* transport's expected length (caps data-in) */
	/* Run only a READ whose data is all in memory or a WRITE (not FUA)
	 * that needs no lock another thread holds nor a disk read, and at
	 * once; anything else sets would_block and does nothing (for an event
	 * loop that hands the rest to I/O threads). */
	int nowait;
	int would_block;
	/* Outputs. */
	uint8_t *in;       /* data-in (malloc'd, caller frees) */
	uint32_t in_len;   /* bytes of data-in the command produced */
	uint32_t out_need; /* bytes of data-out the command wanted */
	uint8_t status;    /* SCSI status */
	uint8_t sense[18]; /* fixed-format sense data when CHECK CONDITION */
	uint8_t sense_len;
	uint64_t bytes_read, bytes_written; /* for statistics */
};

int scsi_lu_init(struct scsi_lu *lu, struct fb_blockdev *bd, const char *name);
/* Name the I_T nexus this unit object serves (one per session) and join
 * the unit's reservation state, kept in aptpl_path (NULL: the unit keeps
 * none, and APTPL=1 is refused). 0, or -1 (no memory). */
int scsi_lu_attach(struct scsi_lu *lu, const char *initiator, uint64_t isid,
                   const char *aptpl_path);
/* A LOGICAL UNIT RESET or target reset from this session: RESERVE(6)
 * reservations end (persistent ones stay). */
void scsi_lu_reset(struct scsi_lu *lu);
/* Ends the session's I_T nexus: its RESERVE(6) reservation ends. */
void scsi_lu_destroy(struct scsi_lu *lu);
/* Whether a command may be tried with nowait (a READ or WRITE, on a
 * device that can say it would block). */
int scsi_lu_nowait_ok(const struct scsi_lu *lu, const uint8_t *cdb);
/* Run one command; never fails as a function (errors become SCSI status). */
void scsi_lu_exec(struct scsi_lu *lu, struct scsi_req *r);
/* Fill fixed-format sense data. */
void scsi_set_sense(struct scsi_req *r, uint8_t key, uint8_t asc, uint8_t ascq);

#endif
