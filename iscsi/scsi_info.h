/*
 * scsi_info.h - the descriptive SCSI commands (scsi_info.c), called by the
 * dispatcher in scsi_lu.c.
 */
#ifndef FB_SCSI_INFO_H
#define FB_SCSI_INFO_H

#include "proto/scsi_cdb.h"
#include "iscsi/scsi_lu.h"

void scsi_inquiry(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c);
void scsi_read_capacity10(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c);
void scsi_read_capacity16(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c);
void scsi_get_lba_status(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c);
void scsi_report_luns(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c);
void scsi_request_sense(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c);
void scsi_read_defect_data(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c);
void scsi_mode_sense(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c);

#endif
