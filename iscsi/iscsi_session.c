/*
 * iscsi_session.c - full feature phase (RFC 7143 sections 3-4, 11): CmdSN
 * ordering and window, SCSI commands with immediate, unsolicited and
 * R2T-solicited data, Data-In and responses with exact residuals,
 * NOP-In/Out, task management, logout and Reject.
 *
 * Commands outside the CmdSN window are dropped silently (3.2.2.1);
 * commands ahead of ExpCmdSN wait until the gap fills. A write whose data
 * arrives with a wrong DataSN, offset or tag is answered at once with
 * CHECK CONDITION (ABORTED COMMAND) rather than waited on, so a confused
 * initiator never hangs the session.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "cleanup.h"
#include "crc32c.h"
#include "log.h"
#include "iscsi/iscsi_int.h"
#include "iscsi/scsi_pr.h"

void iscsi_stamp(struct iscsi_conn *c, uint8_t *p, int advance)
{
	if (advance > 0)
		fb_put_be32(p + ISCSI_BHS_STATSN_AT, c->statsn++);
	else if (advance == 0)
		fb_put_be32(p + ISCSI_BHS_STATSN_AT, c->statsn);
	fb_put_be32(p + ISCSI_BHS_EXP_CMDSN_AT, c->expcmdsn);
	fb_put_be32(p + ISCSI_BHS_MAX_CMDSN_AT, c->expcmdsn + ISCSI_CMD_WINDOW - 1);
}

void iscsi_send_stamped(struct iscsi_conn *c, struct iscsi_out *o, int advance)
{
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
	iscsi_stamp(c, o->data, advance);
	iscsi_conn_send(c, o, 1);
}

/* A command's turn came: ExpCmdSN moves past it. */
static void advance_expcmdsn(struct iscsi_conn *c)
{
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
	c->expcmdsn++;
}

/* Build a target PDU with a data segment, stamp it and send it. */
static int send_pdu(struct iscsi_conn *c, const struct iscsi_bhs *h, const void *data, size_t dlen,
                    int advance, int close_after)
{
	struct iscsi_out *o = iscsi_out_new(ISCSI_BHS_LEN + iscsi_pad4(dlen));
	if (!o)
		return -1;
	struct iscsi_bhs hh = *h;
	hh.dlen = (uint32_t)dlen;
	iscsi_bhs_build(&hh, o->data);
	if (dlen)
		memcpy(o->data + ISCSI_BHS_LEN, data, dlen);
	o->close_after = close_after;
	iscsi_send_stamped(c, o, advance);
	return 0;
}

void iscsi_send_reject(struct iscsi_conn *c, uint8_t reason, const uint8_t *hdr)
{
	struct iscsi_bhs h = {0};
	h.opcode = ISCSI_OP_REJECT;
	h.flags = ISCSI_FLAG_F;
	h.b2 = reason;
	h.itt = ISCSI_RSVD_TAG;
	send_pdu(c, &h, hdr, ISCSI_BHS_LEN, 1, 0);
}

/* Task list helpers (conn->lock held by the caller). */
static struct iscsi_task *find_task(struct iscsi_conn *c, uint32_t itt)
{
	for (struct iscsi_task *t = c->tasks; t; t = t->next)
		if (t->itt == itt)
			return t;
	return NULL;
}

/* The task with tag itt that is still gathering write data, or NULL
 * (takes conn->lock). Only the network thread frees such a task, and this
 * runs on it, so the task stays valid after the lock is let go. */
static struct iscsi_task *find_collecting(struct iscsi_conn *c, uint32_t itt)
{
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
	struct iscsi_task *task = find_task(c, itt);
	return task && task->state == TASK_COLLECT ? task : NULL;
}

static void unlink_task(struct iscsi_conn *c, struct iscsi_task *task)
{
	for (struct iscsi_task **pp = &c->tasks; *pp; pp = &(*pp)->next) {
		if (*pp == task) {
			*pp = task->next;
			c->task_bytes -= task->acct;
			return;
		}
	}
}

static void free_task(struct iscsi_task *task)
{
	free(task->data);
	free(task);
}

/* Answer a task without running it (queued so it keeps its order). */
static void fail_task(struct iscsi_task *task, uint8_t key, uint8_t asc, uint8_t ascq)
{
	task->early_status = SCSI_STATUS_CHECK_CONDITION;
	task->early_key = key;
	task->early_asc = asc;
	task->early_ascq = ascq;
	iscsi_queue_task(task);
}

static void send_r2t(struct iscsi_conn *c, struct iscsi_task *task)
{
	uint32_t left = task->edtl - task->received;
	task->r2t_off = task->received;
	task->r2t_len = left < c->p.max_burst ? left : c->p.max_burst;
	task->r2t_ttt = c->next_ttt++;
	if (c->next_ttt == ISCSI_RSVD_TAG)
		c->next_ttt = 1;
	task->r2t_active = 1;
	task->datasn = 0;
	struct iscsi_bhs h = {0};
	h.opcode = ISCSI_OP_R2T;
	h.flags = ISCSI_FLAG_F;
	h.lun = task->lun;
	h.itt = task->itt;
	bhs_set_ttt(&h, task->r2t_ttt);
	bhs_set_r2tsn(&h, task->r2tsn++);
	bhs_set_buffer_offset(&h, task->r2t_off);
	bhs_set_desired_len(&h, task->r2t_len);
	if (send_pdu(c, &h, NULL, 0, 0, 0) < 0)
		fail_task(task, SCSI_SENSE_HARDWARE_ERROR, 0x55, 0x03);
}

/* Data for a write arrived: run it when complete, else ask for more. */
static void write_progress(struct iscsi_conn *c, struct iscsi_task *task)
{
	if (task->received >= task->edtl) {
		iscsi_queue_task(task);
		return;
	}
	if (task->unsol_done && !task->r2t_active)
		send_r2t(c, task);
}

/*
 * Does a Data-Out with this tag, TTT, DataSN, offset and length fit the
 * task's data transfer exactly where it is now? Every Data-Out, solicited
 * or not, must carry the next DataSN, start where the data so far ends
 * (DataPDUInOrder=Yes) and stay within EDTL; an unsolicited one must also
 * stay within the first burst before the initiator said it was done, a
 * solicited one within the window of the R2T it answers. So no region is
 * ever taken twice and `received` never passes EDTL.
 */
static int data_out_fits(const struct iscsi_task *task, uint32_t ttt, uint32_t datasn, uint32_t off,
                         uint64_t len)
{
	uint64_t end = (uint64_t)off + len;
	if (datasn != task->datasn || off != task->received || end > task->edtl)
		return 0;
	if (ttt == ISCSI_RSVD_TAG)
		return !task->unsol_done && end <= task->unsol_limit;
	return task->r2t_active && ttt == task->r2t_ttt &&
	       end <= (uint64_t)task->r2t_off + task->r2t_len;
}

uint8_t *iscsi_data_out_dest(struct iscsi_conn *c, const struct iscsi_bhs *h)
{
	/* With data digests the payload is checked before use: no shortcut. */
	if (h->opcode != ISCSI_OP_DATA_OUT || h->ahs_words || !h->dlen || c->discovery ||
	    c->ddigest)
		return NULL;
	struct iscsi_task *task = find_collecting(c, h->itt);
	if (!task || !task->data)
		return NULL;
	uint32_t off = bhs_buffer_offset(h);
	if (!data_out_fits(task, bhs_ttt(h), bhs_datasn(h), off, h->dlen))
		return NULL;
	return task->data + off;
}

size_t iscsi_cmd_buffer_size(struct iscsi_conn *c, const struct iscsi_bhs *h, size_t len)
{
	c->body_cap = 0;
	if (h->opcode != ISCSI_OP_SCSI_CMD || !(h->flags & ISCSI_CMD_W) || h->ahs_words ||
	    bhs_edtl(h) > ISCSI_MAX_EDTL || c->discovery || c->ddigest ||
	    c->collect_bytes + bhs_edtl(h) > ISCSI_COLLECT_LIMIT)
		return len;
	c->body_cap = bhs_edtl(h) > len ? bhs_edtl(h) : len;
	return c->body_cap;
}

static void scsi_cmd(struct iscsi_conn *c, const struct iscsi_bhs *h, const uint8_t *data,
                     size_t dlen)
{
	struct iscsi_task *task = calloc(1, sizeof(*task));
	if (!task) {
		iscsi_send_reject(c, ISCSI_REJECT_OUT_OF_RESOURCES, c->hdr);
		return;
	}
	task->c = c;
	task->itt = h->itt;
	task->cmdsn = bhs_cmdsn(h);
	task->edtl = bhs_edtl(h);
	task->lun = h->lun;
	task->flags = h->flags & (ISCSI_CMD_R | ISCSI_CMD_W);
	memcpy(task->cdb, h->cdb, 16);
	task->state = TASK_COLLECT;
	{
		ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
		task->next = c->tasks;
		c->tasks = task;
	}

	if (iscsi_lun_number(h->lun) != 0 && h->cdb[0] != 0xa0 /* REPORT LUNS */) {
		fail_task(task, SCSI_SENSE_ILLEGAL_REQUEST, 0x25, 0x00); /* LU not supported */
		return;
	}
	if (!(task->flags & ISCSI_CMD_W)) {
		iscsi_queue_task(task); /* data sent with a non-write is ignored */
		return;
	}
	if (task->edtl > ISCSI_MAX_EDTL) {
		fail_task(task, SCSI_SENSE_ILLEGAL_REQUEST, 0x24, 0x00);
		return;
	}
	if (c->collect_bytes + task->edtl > ISCSI_COLLECT_LIMIT) {
		/* Too much write data being gathered at once: TASK SET FULL,
		 * the initiator retries later. */
		task->early_status = SCSI_STATUS_TASK_SET_FULL;
		iscsi_queue_task(task);
		return;
	}
	if (data && data == c->body && c->body_cap >= task->edtl) {
		/* The receive buffer was sized for the whole write: adopt it
		 * (immediate data already in place, no copy). */
		task->data = c->body;
		c->body = NULL;
	} else {
		task->data = malloc(task->edtl ? task->edtl : 1);
	}
	if (!task->data) {
		fail_task(task, SCSI_SENSE_HARDWARE_ERROR, 0x55, 0x03);
		return;
	}
	task->collecting = task->edtl;
	c->collect_bytes += task->edtl;
	if (dlen && !c->p.immediate_data) {
		fail_task(task, SCSI_SENSE_ABORTED_COMMAND, 0x4b, 0x00); /* data phase error */
		return;
	}
	size_t n = dlen < task->edtl ? dlen : task->edtl;
	if (n && task->data != data)
		memcpy(task->data, data, n);
	task->received = (uint32_t)n;
	uint32_t fb = c->p.first_burst < task->edtl ? c->p.first_burst : task->edtl;
	task->unsol_limit = c->p.initial_r2t ? 0 : fb;
	task->unsol_done = (h->flags & ISCSI_FLAG_F) || c->p.initial_r2t || task->received >= fb;
	write_progress(c, task);
}

static void data_out(struct iscsi_conn *c, const struct iscsi_bhs *h, const uint8_t *data,
                     size_t dlen)
{
	struct iscsi_task *task = find_collecting(c, h->itt);
	if (!task) {
		/* Data for a task already answered (or never known): drop. */
		log_debug("%s: Data-Out for unknown task 0x%08x", c->peer_str, h->itt);
		return;
	}
	uint32_t ttt = bhs_ttt(h), datasn = bhs_datasn(h), off = bhs_buffer_offset(h);
	int final = (h->flags & ISCSI_FLAG_F) != 0;
	int solicited = ttt != ISCSI_RSVD_TAG;
	if (!task->data || !data_out_fits(task, ttt, datasn, off, dlen)) {
		log_warnx("%s: bad Data-Out for task 0x%08x (DataSN %u, offset %u, %zu bytes)",
		          c->peer_str, task->itt, datasn, off, dlen);
		fail_task(task, SCSI_SENSE_ABORTED_COMMAND, 0x4b, 0x00);
		return;
	}
	if (dlen && data != task->data + off) /* else received in place */
		memcpy(task->data + off, data, dlen);
	task->received += (uint32_t)dlen;
	task->datasn++;
	if (solicited) {
		if (task->received == task->r2t_off + task->r2t_len)
			task->r2t_active = 0;
		else if (final) { /* F before the burst is complete */
			fail_task(task, SCSI_SENSE_ABORTED_COMMAND, 0x4b, 0x00);
			return;
		}
	} else if (final || task->received >= task->unsol_limit) {
		task->unsol_done = 1;
	}
	write_progress(c, task);
}

static void nop_out(struct iscsi_conn *c, const struct iscsi_bhs *h, const uint8_t *data,
                    size_t dlen)
{
	if (h->itt == ISCSI_RSVD_TAG)
		return; /* an answer to our NOP-In, or a bare ping: no reply */
	struct iscsi_bhs r = {0};
	r.opcode = ISCSI_OP_NOP_IN;
	r.flags = ISCSI_FLAG_F;
	r.lun = h->lun;
	r.itt = h->itt;
	bhs_set_ttt(&r, ISCSI_RSVD_TAG);
	if (dlen > c->p.max_send_dsl)
		dlen = c->p.max_send_dsl;
	send_pdu(c, &r, data, dlen, 1, 0);
}

/* Abort one task: tasks still collecting data go at once; queued ones
 * finish but send nothing. conn->lock held. */
static void abort_locked(struct iscsi_conn *c, struct iscsi_task *task)
{
	task->aborted = 1;
	if (task->state == TASK_COLLECT) {
		c->collect_bytes -= task->collecting;
		unlink_task(c, task);
		free_task(task);
	}
}

/* A reset's unit attention (SAM-5 6.3): 29h/03h "bus device reset
 * function occurred" for a LU reset, 29h/00h for a target reset; every
 * session on the disk gets it, the one that asked for the reset too. */
#define RESET_ASC 0x29

/* A LU or target reset affects every session on the disk (SAM-5): their
 * tasks end without a reply and a unit attention waits for their next
 * command. Tasks still gathering data are only marked, not freed: that
 * connection may be receiving into their buffers right now; they are
 * dropped once complete. (Network thread.) */
static void reset_other_sessions(struct iscsi_conn *c, uint8_t reset_ascq)
{
	for (struct iscsi_conn *o = c->t->conns; o; o = o->next) {
		if (o == c || o->phase != PH_FFP || o->discovery || o->bd != c->bd)
			continue;
		{
			ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&o->lock);
			for (struct iscsi_task *t = o->tasks; t; t = t->next)
				t->aborted = 1;
		}
		if (c->lu.pr)
			scsi_pr_unit_attention(c->lu.pr, o->lu.port, RESET_ASC, reset_ascq);
		log_info("%s: tasks aborted by a reset from %s", o->peer_str, c->peer_str);
	}
}

/* ABORT TASK (conn->lock held): the TMF response code. */
static uint8_t tmf_abort_task(struct iscsi_conn *c, const struct iscsi_bhs *h)
{
	struct iscsi_task *task = find_task(c, bhs_ref_itt(h));
	if (task) {
		abort_locked(c, task);
		return 0;
	}
	/* RFC 7143 11.5.1: a RefCmdSN not received yet (inside the window,
	 * before this request) counts as received and aborted: "Function
	 * complete". One already received (before ExpCmdSN) was answered:
	 * "Task does not exist". */
	uint32_t ref = bhs_ref_cmdsn(h);
	int32_t ahead = (int32_t)(ref - c->expcmdsn), before = (int32_t)(bhs_cmdsn(h) - ref);
	return (ahead >= 0 && before > 0) ? 0 : 1;
}

/* Carry out task management function fn on this connection's tasks
 * (takes conn->lock) and return the TMF response code. *reset_others is
 * set when the other sessions on the disk are reset too. */
static uint8_t tmf_apply(struct iscsi_conn *c, const struct iscsi_bhs *h, uint8_t fn,
                         int *reset_others)
{
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
	switch (fn) {
	case 1: /* ABORT TASK */
		return tmf_abort_task(c, h);
	case 2: /* ABORT TASK SET */
	case 4: /* CLEAR TASK SET */
	case 5: /* LOGICAL UNIT RESET */
	case 6: /* TARGET WARM RESET */
	case 7: /* TARGET COLD RESET */
		if (fn != 6 && fn != 7 && iscsi_lun_number(h->lun) != 0)
			return 2; /* LUN does not exist */
		for (struct iscsi_task *t = c->tasks, *next; t; t = next) {
			next = t->next;
			abort_locked(c, t);
		}
		*reset_others = fn >= 5;
		if (fn >= 5)
			scsi_lu_reset(&c->lu); /* RESERVE(6) ends; persistent ones stay */
		return 0;
	default:
		return 5; /* function not supported */
	}
}

static void tmf(struct iscsi_conn *c, const struct iscsi_bhs *h)
{
	uint8_t fn = h->flags & 0x7f;
	int reset_others = 0;
	uint8_t resp = tmf_apply(c, h, fn, &reset_others);
	int close_after = fn == 7; /* cold reset drops the connection */
	if (reset_others) {
		uint8_t ascq = fn == 5 ? 0x03 : 0x00;
		reset_other_sessions(c, ascq);
		if (c->lu.pr)
			scsi_pr_unit_attention(c->lu.pr, c->lu.port, RESET_ASC, ascq);
	}
	log_info("%s: task management function %u: response %u", c->peer_str, fn, resp);
	struct iscsi_bhs r = {0};
	r.opcode = ISCSI_OP_TMF_RSP;
	r.flags = ISCSI_FLAG_F;
	r.b2 = resp;
	r.itt = h->itt;
	send_pdu(c, &r, NULL, 0, 1, close_after);
	if (close_after)
		c->phase = PH_CLOSING;
}

static void logout(struct iscsi_conn *c, const struct iscsi_bhs *h)
{
	uint8_t reason = h->flags & 0x7f;
	struct iscsi_bhs r = {0};
	r.opcode = ISCSI_OP_LOGOUT_RSP;
	r.flags = ISCSI_FLAG_F;
	r.b2 = reason == 2 ? 2 : 0; /* recovery is not supported (ERL 0) */
	r.itt = h->itt;
	send_pdu(c, &r, NULL, 0, 1, reason != 2);
	if (reason != 2)
		c->phase = PH_CLOSING;
}

/* One command PDU whose turn (CmdSN) has come. */
static void run_cmd(struct iscsi_conn *c, const struct iscsi_bhs *h, const uint8_t *data,
                    size_t dlen)
{
	switch (h->opcode) {
	case ISCSI_OP_NOP_OUT:
		nop_out(c, h, data, dlen);
		break;
	case ISCSI_OP_SCSI_CMD:
		scsi_cmd(c, h, data, dlen);
		break;
	case ISCSI_OP_TMF_REQ:
		tmf(c, h);
		break;
	case ISCSI_OP_TEXT_REQ:
		iscsi_text_pdu(c, h, (uint8_t *)data, dlen);
		break;
	case ISCSI_OP_LOGOUT:
		logout(c, h);
		break;
	}
}

static void release_held(struct iscsi_conn *c)
{
	for (;;) {
		struct iscsi_held **pp, *hp = NULL;
		for (pp = &c->held; *pp; pp = &(*pp)->next) {
			if (bhs_cmdsn(&(*pp)->h) == c->expcmdsn) {
				hp = *pp;
				*pp = hp->next;
				break;
			}
		}
		if (!hp || c->phase != PH_FFP) {
			if (hp) {
				free(hp->body);
				free(hp);
				c->nheld--;
			}
			return;
		}
		c->nheld--;
		advance_expcmdsn(c);
		size_t ahs = (size_t)hp->h.ahs_words * 4;
		run_cmd(c, &hp->h, hp->body ? hp->body + ahs : NULL, hp->h.dlen);
		free(hp->body);
		free(hp);
	}
}

int iscsi_ffp_pdu(struct iscsi_conn *c, const struct iscsi_bhs *h, uint8_t *body, size_t blen)
{
	size_t ahs = (size_t)h->ahs_words * 4;
	const uint8_t *data = body ? body + ahs : NULL;
	size_t dlen = h->dlen;
	/* A discovery session has no LUN: only text, NOP and logout. */
	if (c->discovery && (h->opcode == ISCSI_OP_SCSI_CMD || h->opcode == ISCSI_OP_TMF_REQ ||
	                     h->opcode == ISCSI_OP_DATA_OUT)) {
		iscsi_send_reject(c, ISCSI_REJECT_PROTOCOL, c->hdr);
		return 0;
	}
	switch (h->opcode) {
	case ISCSI_OP_DATA_OUT:
		data_out(c, h, data, dlen);
		return 0;
	case ISCSI_OP_NOP_OUT:
	case ISCSI_OP_SCSI_CMD:
	case ISCSI_OP_TMF_REQ:
	case ISCSI_OP_TEXT_REQ:
	case ISCSI_OP_LOGOUT:
		break;
	case ISCSI_OP_SNACK: /* needs ErrorRecoveryLevel > 0 */
		iscsi_send_reject(c, ISCSI_REJECT_SNACK, c->hdr);
		return 0;
	default:
		iscsi_send_reject(c, ISCSI_REJECT_CMD_NOT_SUPPORTED, c->hdr);
		return 0;
	}
	if (h->immediate) {
		run_cmd(c, h, data, dlen);
		return 0;
	}
	uint32_t cmdsn = bhs_cmdsn(h);
	int32_t ahead = (int32_t)(cmdsn - c->expcmdsn);
	if (ahead < 0 || ahead >= (int32_t)ISCSI_CMD_WINDOW) {
		log_debug("%s: CmdSN %u outside [%u, +%u): ignored", c->peer_str, cmdsn,
		          c->expcmdsn, ISCSI_CMD_WINDOW);
		return 0;
	}
	if (ahead > 0) {
		/* Wait for the gap to fill (another connection's commands, or
		 * an initiator testing us). */
		struct iscsi_held *hp = calloc(1, sizeof(*hp));
		if (!hp || c->nheld >= ISCSI_MAX_PENDING) {
			free(hp);
			return 0;
		}
		hp->h = *h;
		if (blen) {
			hp->body = malloc(blen + 1);
			if (!hp->body) {
				free(hp);
				return 0;
			}
			memcpy(hp->body, body, blen);
			hp->body[blen] = 0;
		}
		hp->body_len = blen;
		hp->next = c->held;
		c->held = hp;
		c->nheld++;
		return 0;
	}
	advance_expcmdsn(c);
	run_cmd(c, h, data, dlen);
	if (c->held)
		release_held(c);
	return 0;
}

void iscsi_session_cleanup(struct iscsi_conn *c)
{
	while (c->held) {
		struct iscsi_held *hp = c->held;
		c->held = hp->next;
		free(hp->body);
		free(hp);
	}
	c->nheld = 0;
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
	for (struct iscsi_task *t = c->tasks, *next; t; t = next) {
		next = t->next;
		abort_locked(c, t);
	}
}

/* Residual between what the command wanted to move and EDTL. */
static void residual(uint32_t want, uint32_t edtl, uint8_t *flags, uint32_t *count)
{
	if (want > edtl) {
		*flags |= ISCSI_RES_O;
		*count = want - edtl;
	} else if (want < edtl) {
		*flags |= ISCSI_RES_U;
		*count = edtl - want;
	}
}

/*
 * How a task's reply is laid out: npdu Data-In PDUs with the read data,
 * then a SCSI Response unless the last Data-In carries the status
 * (collapse). The headers are built in the output's own buffer, one slot
 * per Data-In (header, header digest, then padding and data digest); the
 * payload is sent straight from the read buffer, without a copy.
 */
struct reply_plan {
	uint32_t din;     /* read data sent */
	uint32_t seg;     /* data per Data-In */
	uint32_t npdu;    /* Data-In PDUs */
	int collapse;     /* the last Data-In has the status: no SCSI Response */
	uint8_t rflags;   /* residual flags (ISCSI_RES_O or ISCSI_RES_U) */
	uint32_t rcount;  /* residual count */
	size_t sense_seg; /* SCSI Response data segment: length + sense data */
	/* With header digests, pieces reserve 4 bytes after each BHS (filled
	 * once the headers are final, in send_reply). */
	size_t dg;      /* header digest bytes after each header of the pieces */
	size_t ddg;     /* data digest bytes after each piece's data */
	size_t slot;    /* bytes per Data-In header slot */
	size_t hdrs_al; /* header bytes, rounded up for the iovec array after them */
	int niov;       /* pieces; 0 when the reply is one plain PDU */
};

static void plan_reply(const struct iscsi_conn *c, const struct iscsi_task *task,
                       const struct scsi_req *r, struct reply_plan *pl)
{
	int reading = (task->flags & ISCSI_CMD_R) != 0, writing = (task->flags & ISCSI_CMD_W) != 0;
	memset(pl, 0, sizeof(*pl));
	if (r->status == SCSI_STATUS_GOOD) {
		if (reading) {
			pl->din = r->in_len < task->edtl ? r->in_len : task->edtl;
			residual(r->in_len, task->edtl, &pl->rflags, &pl->rcount);
		} else if (writing) {
			residual(r->out_need, task->edtl, &pl->rflags, &pl->rcount);
		} else {
			residual(r->in_len ? r->in_len : r->out_need, task->edtl, &pl->rflags,
			         &pl->rcount);
		}
	}
	pl->seg = c->p.max_send_dsl ? c->p.max_send_dsl : 8192;
	pl->npdu = pl->din ? (pl->din + pl->seg - 1) / pl->seg : 0;
	pl->collapse = pl->npdu > 0 && r->status == SCSI_STATUS_GOOD;
	pl->sense_seg = r->sense_len ? 2 + (size_t)r->sense_len : 0;
	pl->dg = pl->npdu && c->hdigest ? 4 : 0;
	pl->slot = ISCSI_BHS_LEN + pl->dg + 8;
	pl->ddg = pl->npdu && c->ddigest ? 4 : 0;
	size_t hdrs =
	    (size_t)pl->npdu * pl->slot +
	    (pl->collapse ? 0 : ISCSI_BHS_LEN + pl->dg + iscsi_pad4(pl->sense_seg) + pl->ddg);
	pl->hdrs_al = (hdrs + 15) & ~(size_t)15;
	pl->niov = pl->npdu ? (int)(3 * pl->npdu + (pl->collapse ? 0 : 1)) : 0;
}

/* Data-In number i of a read's reply: its header at `at` (the header
 * digest is filled in later), its three pieces in iov[0..2]. Returns its
 * bytes on the wire. */
static size_t build_data_in(const struct iscsi_task *task, const struct scsi_req *r,
                            const struct reply_plan *pl, uint32_t i, uint32_t exp, uint8_t *at,
                            struct iovec *iov)
{
	uint32_t off = i * pl->seg, n = pl->din - off < pl->seg ? pl->din - off : pl->seg;
	int last = i + 1 == pl->npdu;
	struct iscsi_bhs d = {0};
	d.opcode = ISCSI_OP_DATA_IN;
	d.flags = last ? ISCSI_FLAG_F : 0;
	if (last && pl->collapse) {
		d.flags |= ISCSI_DATA_S | pl->rflags;
		d.b3 = r->status;
		bhs_set_residual(&d, pl->rcount);
	}
	d.dlen = n;
	d.lun = task->lun;
	d.itt = task->itt;
	bhs_set_ttt(&d, ISCSI_RSVD_TAG);
	bhs_set_exp_cmdsn(&d, exp);
	bhs_set_max_cmdsn(&d, exp + ISCSI_CMD_WINDOW - 1);
	bhs_set_datasn(&d, i);
	bhs_set_buffer_offset(&d, off);
	iscsi_bhs_build(&d, at);
	iov[0].iov_base = at;
	iov[0].iov_len = ISCSI_BHS_LEN + pl->dg;
	iov[1].iov_base = r->in + off;
	iov[1].iov_len = n;
	/* Padding (zeros), then the data digest if any. */
	size_t pad = iscsi_pad4(n) - n;
	uint8_t *tail = at + ISCSI_BHS_LEN + pl->dg;
	if (pl->ddg) {
		uint32_t crc = iscsi_crc32c(r->in + off, n);
		crc = fb_crc32c(crc, tail, pad);
		iscsi_put_digest(tail + pad, crc);
	}
	iov[2].iov_base = tail;
	iov[2].iov_len = pad + pl->ddg;
	return ISCSI_BHS_LEN + pl->dg + iscsi_pad4(n) + pl->ddg;
}

/* The SCSI Response that ends a reply the Data-In did not (collapse), with
 * its sense data, at `at`. Returns its bytes on the wire. */
static size_t build_scsi_rsp(const struct iscsi_task *task, const struct scsi_req *r,
                             const struct reply_plan *pl, uint8_t *at)
{
	struct iscsi_bhs s = {0};
	s.opcode = ISCSI_OP_SCSI_RSP;
	s.flags = ISCSI_FLAG_F | pl->rflags;
	s.b3 = r->status;
	s.dlen = (uint32_t)pl->sense_seg;
	s.itt = task->itt;
	bhs_set_exp_datasn(&s, pl->npdu);
	bhs_set_residual(&s, pl->rcount);
	iscsi_bhs_build(&s, at);
	uint8_t *sp = at + ISCSI_BHS_LEN + pl->dg;
	if (pl->sense_seg) {
		sp[0] = 0;
		sp[1] = r->sense_len;
		memcpy(sp + 2, r->sense, r->sense_len);
	}
	size_t l = ISCSI_BHS_LEN + pl->dg + iscsi_pad4(pl->sense_seg);
	if (pl->ddg && pl->sense_seg) {
		iscsi_put_digest(sp + iscsi_pad4(pl->sense_seg),
		                 iscsi_crc32c(sp, iscsi_pad4(pl->sense_seg)));
		l += 4;
	}
	return l;
}

/*
 * Build the reply of a task that ran, as planned: returns the output (it
 * takes over the read buffer r->in), or NULL without memory. *last_hdr is
 * the offset of the header that carries the status (it gets the StatSN).
 */
static struct iscsi_out *build_reply(struct iscsi_conn *c, const struct iscsi_task *task,
                                     struct scsi_req *r, const struct reply_plan *pl,
                                     size_t *last_hdr)
{
	struct iscsi_out *o = iscsi_out_new(pl->hdrs_al + (size_t)pl->niov * sizeof(struct iovec));
	if (!o)
		return NULL;
	uint32_t exp;
	{
		ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
		exp = c->expcmdsn;
	}
	struct iovec *iov = pl->niov ? (struct iovec *)(void *)(o->data + pl->hdrs_al) : NULL;
	size_t pos = 0, total = 0;
	int k = 0;
	*last_hdr = 0;
	for (uint32_t i = 0; i < pl->npdu; i++) {
		total += build_data_in(task, r, pl, i, exp, o->data + pos, iov + k);
		*last_hdr = pos;
		k += 3;
		pos += pl->slot;
	}
	if (!pl->collapse) {
		size_t l = build_scsi_rsp(task, r, pl, o->data + pos);
		*last_hdr = pos;
		if (iov) {
			iov[k].iov_base = o->data + pos;
			iov[k++].iov_len = l;
		}
		total += l;
	}
	o->len = total;
	if (iov) {
		o->iov = iov;
		o->niov = k;
		o->ext = r->in; /* freed with the output */
		r->in = NULL;
	}
	return o;
}

/* Queue a task's reply, or drop it if the task was aborted or the
 * connection died while it ran; the task leaves the connection's list
 * either way. The header at last_hdr gets the StatSN. */
static void send_reply(struct iscsi_conn *c, struct iscsi_task *task, struct iscsi_out *o,
                       const struct reply_plan *pl, size_t last_hdr, int defer_flush)
{
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
	unlink_task(c, task);
	if (task->aborted || c->dead) {
		iscsi_out_free(o);
		iscsi_conn_kick(c);
	} else {
		iscsi_stamp(c, o->data + last_hdr, 1);
		/* Header digests of the pieces, now that the headers are final. */
		for (size_t h = 0; pl->dg && h <= last_hdr; h += pl->slot)
			iscsi_put_digest(o->data + h + ISCSI_BHS_LEN,
			                 iscsi_crc32c(o->data + h, ISCSI_BHS_LEN));
		if (defer_flush)
			iscsi_conn_enqueue(c, o);
		else
			iscsi_conn_send(c, o, 1);
	}
}

/* Run the task's command into r, or take the answer decided before it
 * ran (early_status). -1 when, with nowait, it would have to wait. */
static int task_exec(struct iscsi_task *task, struct scsi_req *r, int nowait)
{
	struct iscsi_conn *c = task->c;
	struct fb_iscsi_target *t = c->t;
	if (task->early_status == SCSI_STATUS_CHECK_CONDITION) {
		scsi_set_sense(r, task->early_key, task->early_asc, task->early_ascq);
		return 0;
	}
	if (task->early_status) {
		r->status = (uint8_t)task->early_status;
		return 0;
	}
	r->cdb = task->cdb;
	r->out = task->data;
	r->out_len = (task->flags & ISCSI_CMD_W) ? task->received : 0;
	r->edtl = (task->flags & ISCSI_CMD_R) ? task->edtl : 0;
	r->nowait = nowait;
	scsi_lu_exec(&c->lu, r);
	if (r->would_block)
		return -1;
	atomic_fetch_add(&t->bytes_read, r->bytes_read);
	atomic_fetch_add(&t->bytes_written, r->bytes_written);
	return 0;
}

int iscsi_task_run(struct iscsi_task *task, int defer_flush, int nowait)
{
	struct iscsi_conn *c = task->c;
	struct scsi_req r;
	memset(&r, 0, sizeof(r));
	int skip;
	{
		ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
		skip = task->aborted || c->dead;
	}
	int sent = 0;
	if (!skip) {
		if (task_exec(task, &r, nowait) < 0)
			return 0;
		struct reply_plan pl;
		plan_reply(c, task, &r, &pl);
		size_t last_hdr;
		struct iscsi_out *o = build_reply(c, task, &r, &pl, &last_hdr);
		if (o) {
			send_reply(c, task, o, &pl, last_hdr, defer_flush); /* or drops it */
			sent = 1;
		}
	}
	if (!sent) {
		/* Aborted, dead, or no memory for the response (the initiator
		 * will time out and abort; the daemon goes on). */
		ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&c->lock);
		unlink_task(c, task);
		iscsi_conn_kick(c);
	}
	free(r.in);
	free_task(task);
	return 1;
}
