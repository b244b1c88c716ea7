/*
 * scsi_pr.c - reservations (see scsi_pr.h). Learnt from SPC-4 5.13 and
 * 6.15-6.16 as libiscsi's test suite exercises them; written for this
 * target.
 *
 * State. Each unit has at most PR_MAX_REG registrations (initiator port,
 * key), at most one persistent reservation (a type and, except for the
 * all-registrants types, the holder's port), at most one RESERVE(6)
 * holder, and a short queue of unit attentions for given ports. The
 * registry of states is keyed by the unit's name: every session of one
 * machine meets the same state, and no machine can name another's.
 *
 * APTPL. When the last REGISTER asked for it, every change is written to
 * aptpl_path before the command is answered: a temporary file (mode
 * 0600), fsync, rename, fsync of the directory. Ports are written in hex,
 * so an initiator name cannot forge a line. A state is reloaded only when
 * no session holds it yet (the first one after a restart).
 */
#include "iscsi/scsi_pr.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "byteorder.h"
#include "cleanup.h"
#include "log.h"
#include "str.h"
#include "iscsi/scsi_cmds.h"

#define PR_MAX_REG 32
#define PR_MAX_UA  32

/* Reservation types (SPC-4 table 169). */
#define PR_WE    1
#define PR_EA    3
#define PR_WE_RO 5
#define PR_EA_RO 6
#define PR_WE_AR 7
#define PR_EA_AR 8

/* PERSISTENT RESERVE OUT service actions. */
#define PRO_REGISTER        0
#define PRO_RESERVE         1
#define PRO_RELEASE         2
#define PRO_CLEAR           3
#define PRO_PREEMPT         4
#define PRO_PREEMPT_ABORT   5
#define PRO_REGISTER_IGNORE 6

struct pr_reg {
	char port[SCSI_PORT_LEN];
	uint64_t key;
};

struct pr_ua {
	char port[SCSI_PORT_LEN];
	uint8_t asc, ascq;
};

struct scsi_pr {
	char name[224];
	char path[4096]; /* APTPL file; empty: none */
	int refs;        /* under registry_lock */
	struct scsi_pr *next;
	pthread_mutex_t lock;
	atomic_int active; /* resv || spc2 || nua (written under lock) */
	uint32_t gen;      /* PRgeneration */
	int aptpl;         /* the last REGISTER set APTPL */
	struct pr_reg reg[PR_MAX_REG];
	int nreg;
	int resv;                   /* a persistent reservation exists */
	uint8_t type;               /* ... of this type */
	char holder[SCSI_PORT_LEN]; /* ... held by (empty for *_AR) */
	char spc2[SCSI_PORT_LEN];   /* RESERVE(6) holder, empty if none */
	struct pr_ua ua[PR_MAX_UA];
	int nua;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct scsi_pr *registry;

static int all_registrants(uint8_t type)
{
	return type == PR_WE_AR || type == PR_EA_AR;
}

static int type_ok(uint8_t type)
{
	return type == PR_WE || type == PR_EA || type == PR_WE_RO || type == PR_EA_RO ||
	       type == PR_WE_AR || type == PR_EA_AR;
}

static void set_active(struct scsi_pr *pr)
{
	atomic_store(&pr->active, pr->resv || pr->spc2[0] || pr->nua);
}

static struct pr_reg *find_reg(struct scsi_pr *pr, const char *port)
{
	for (int i = 0; i < pr->nreg; i++)
		if (!strcmp(pr->reg[i].port, port))
			return &pr->reg[i];
	return NULL;
}

static void drop_reg(struct scsi_pr *pr, struct pr_reg *g)
{
	int i = (int)(g - pr->reg);
	memmove(&pr->reg[i], &pr->reg[i + 1], (size_t)(pr->nreg - i - 1) * sizeof(pr->reg[0]));
	pr->nreg--;
}

/* Does port hold the reservation (any registrant, for *_AR types)? */
static int is_holder(struct scsi_pr *pr, const char *port)
{
	if (!pr->resv)
		return 0;
	if (all_registrants(pr->type))
		return find_reg(pr, port) != NULL;
	return !strcmp(pr->holder, port);
}

static void add_ua(struct scsi_pr *pr, const char *port, uint8_t asc, uint8_t ascq)
{
	for (int i = 0; i < pr->nua; i++)
		if (!strcmp(pr->ua[i].port, port) && pr->ua[i].asc == asc && pr->ua[i].ascq == ascq)
			return;
	if (pr->nua == PR_MAX_UA) { /* the oldest goes: the queue stays bounded */
		memmove(&pr->ua[0], &pr->ua[1], (PR_MAX_UA - 1) * sizeof(pr->ua[0]));
		pr->nua--;
	}
	struct pr_ua *u = &pr->ua[pr->nua++];
	fb_strlcpy(u->port, port, sizeof(u->port));
	u->asc = asc;
	u->ascq = ascq;
}

/* A unit attention for every registrant but port. */
static void ua_others(struct scsi_pr *pr, const char *port, uint8_t asc, uint8_t ascq)
{
	for (int i = 0; i < pr->nreg; i++)
		if (strcmp(pr->reg[i].port, port))
			add_ua(pr, pr->reg[i].port, asc, ascq);
}

static void release_resv(struct scsi_pr *pr)
{
	pr->resv = 0;
	pr->type = 0;
	pr->holder[0] = 0;
}

/* --- persistence --- */

static void hex_encode(const char *s, char *out, size_t cap)
{
	static const char d[] = "0123456789abcdef";
	size_t o = 0;
	for (; *s && o + 2 < cap; s++) {
		out[o++] = d[(uint8_t)*s >> 4];
		out[o++] = d[(uint8_t)*s & 15];
	}
	out[o] = 0;
}

static int hex_decode(const char *h, char *out, size_t cap)
{
	size_t n = strlen(h);
	if (n % 2 || n / 2 + 1 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(h + 2 * i, "%2x", &v) != 1 || v == 0)
			return -1;
		out[i] = (char)v;
	}
	out[n / 2] = 0;
	return 0;
}

/* Write the state (lock held). 0 or -errno. */
static int save(struct scsi_pr *pr)
{
	char tmp[4200], hex[2 * SCSI_PORT_LEN + 1];
	if (!pr->path[0])
		return 0;
	if (!pr->aptpl) {
		if (unlink(pr->path) < 0 && errno != ENOENT)
			return -errno;
		return 0;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", pr->path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	FILE *f = fdopen(fd, "w");
	if (!f) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return -e;
	}
	fprintf(f, "fleetboot-pr 1\ngen %" PRIu32 "\n", pr->gen);
	for (int i = 0; i < pr->nreg; i++) {
		hex_encode(pr->reg[i].port, hex, sizeof(hex));
		fprintf(f, "reg %016" PRIx64 " %s\n", pr->reg[i].key, hex);
	}
	if (pr->resv) {
		hex_encode(pr->holder, hex, sizeof(hex));
		fprintf(f, "resv %u %s\n", pr->type, hex[0] ? hex : "-");
	}
	int rc = 0;
	if (fflush(f) != 0 || fsync(fd) != 0)
		rc = -errno;
	if (fclose(f) != 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, pr->path) < 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	char dir[4096];
	fb_strlcpy(dir, pr->path, sizeof(dir));
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd) < 0)
			rc = -errno;
		close(dfd);
	}
	return rc;
}

/* Reload a saved state; a file that does not parse is ignored whole. */
static void load(struct scsi_pr *pr)
{
	char line[1200], hex[1100], port[SCSI_PORT_LEN];
	FILE *f = fopen(pr->path, "re");
	if (!f)
		return;
	struct scsi_pr *n = calloc(1, sizeof(*n));
	int ok = n && fgets(line, sizeof(line), f) && !strcmp(line, "fleetboot-pr 1\n");
	while (ok && fgets(line, sizeof(line), f)) {
		uint64_t key;
		unsigned type, gen;
		if (sscanf(line, "gen %u", &gen) == 1) {
			n->gen = gen;
		} else if (sscanf(line, "reg %16" SCNx64 " %1099s", &key, hex) == 2) {
			ok = n->nreg < PR_MAX_REG && key != 0 &&
			     !hex_decode(hex, port, sizeof(port)) && !find_reg(n, port);
			if (ok) {
				fb_strlcpy(n->reg[n->nreg].port, port, SCSI_PORT_LEN);
				n->reg[n->nreg++].key = key;
			}
		} else if (sscanf(line, "resv %u %1099s", &type, hex) == 2) {
			ok = type_ok((uint8_t)type) && !n->resv;
			n->resv = 1;
			n->type = (uint8_t)type;
			if (ok && strcmp(hex, "-"))
				ok = !hex_decode(hex, n->holder, sizeof(n->holder)) &&
				     find_reg(n, n->holder);
			else if (ok)
				ok = all_registrants(n->type);
		} else {
			ok = 0;
		}
	}
	fclose(f);
	if (ok) {
		pr->gen = n->gen;
		memcpy(pr->reg, n->reg, sizeof(pr->reg));
		pr->nreg = n->nreg;
		pr->resv = n->resv;
		pr->type = n->type;
		memcpy(pr->holder, n->holder, sizeof(pr->holder));
		pr->aptpl = 1;
		log_info("%s: %d persistent reservation key(s) reloaded", pr->name, pr->nreg);
	} else {
		log_warnx("%s: %s does not parse; persistent reservations start empty", pr->name,
		          pr->path);
	}
	free(n);
}

/* --- the registry --- */

struct scsi_pr *scsi_pr_get(const char *name, const char *aptpl_path)
{
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&registry_lock);
	struct scsi_pr *pr;
	for (pr = registry; pr; pr = pr->next)
		if (!strcmp(pr->name, name)) {
			pr->refs++;
			return pr;
		}
	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return NULL;
	fb_strlcpy(pr->name, name, sizeof(pr->name));
	if (aptpl_path && strlen(aptpl_path) < sizeof(pr->path) - 8)
		fb_strlcpy(pr->path, aptpl_path, sizeof(pr->path));
	pthread_mutex_init(&pr->lock, NULL);
	if (pr->path[0])
		load(pr);
	set_active(pr);
	pr->refs = 1;
	pr->next = registry;
	registry = pr;
	return pr;
}

void scsi_pr_put(struct scsi_pr *pr)
{
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&registry_lock);
	if (--pr->refs > 0)
		return;
	for (struct scsi_pr **p = &registry; *p; p = &(*p)->next)
		if (*p == pr) {
			*p = pr->next;
			break;
		}
	pthread_mutex_destroy(&pr->lock);
	free(pr);
}

int scsi_pr_active(struct scsi_pr *pr)
{
	return atomic_load_explicit(&pr->active, memory_order_relaxed);
}

/* --- checks before a command --- */

static void conflict(struct scsi_req *r)
{
	r->status = SCSI_STATUS_RESERVATION_CONFLICT;
	r->sense_len = 0;
}

int scsi_pr_check(struct scsi_pr *pr, const char *port, int prclass, int no_ua, struct scsi_req *r)
{
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&pr->lock);
	if (!no_ua) {
		for (int i = 0; i < pr->nua; i++) {
			if (strcmp(pr->ua[i].port, port))
				continue;
			scsi_set_sense(r, SCSI_SENSE_UNIT_ATTENTION, pr->ua[i].asc, pr->ua[i].ascq);
			memmove(&pr->ua[i], &pr->ua[i + 1],
			        (size_t)(pr->nua - i - 1) * sizeof(pr->ua[0]));
			pr->nua--;
			set_active(pr);
			return 1;
		}
	}
	if (prclass == SCSI_PRC_ALWAYS)
		return 0;
	/* RESERVE(6): every other nexus is shut out (SPC-2 5.5.1). */
	if (pr->spc2[0] && strcmp(pr->spc2, port)) {
		conflict(r);
		return 1;
	}
	if (!pr->resv || prclass == SCSI_PRC_PR || is_holder(pr, port))
		return 0;
	/* Access for a nexus that does not hold the reservation (SPC-4
	 * table 63): registrants may do everything under *_RO; reads pass
	 * under the write-exclusive types. */
	int registered = find_reg(pr, port) != NULL;
	int access = 0;
	switch (pr->type) {
	case PR_WE:
		access = prclass == SCSI_PRC_READ;
		break;
	case PR_WE_RO:
	case PR_WE_AR:
		access = registered || prclass == SCSI_PRC_READ;
		break;
	case PR_EA_RO:
	case PR_EA_AR:
		access = registered;
		break;
	default: /* PR_EA */
		break;
	}
	if (access)
		return 0;
	conflict(r);
	return 1;
}

void scsi_pr_nexus_lost(struct scsi_pr *pr, const char *port)
{
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&pr->lock);
	if (!strcmp(pr->spc2, port))
		pr->spc2[0] = 0;
	/* Unit attentions for a nexus that is gone are dropped with it. */
	for (int i = 0; i < pr->nua;) {
		if (!strcmp(pr->ua[i].port, port)) {
			memmove(&pr->ua[i], &pr->ua[i + 1],
			        (size_t)(pr->nua - i - 1) * sizeof(pr->ua[0]));
			pr->nua--;
		} else {
			i++;
		}
	}
	set_active(pr);
}

void scsi_pr_lu_reset(struct scsi_pr *pr)
{
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&pr->lock);
	pr->spc2[0] = 0;
	set_active(pr);
}

void scsi_pr_unit_attention(struct scsi_pr *pr, const char *port, uint8_t asc, uint8_t ascq)
{
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&pr->lock);
	add_ua(pr, port, asc, ascq);
	set_active(pr);
}

/* --- RESERVE / RELEASE (6 and 10) --- */

/* The checks RESERVE and RELEASE (6 and 10) share: third-party and extent
 * forms are not supported, and a unit without reservation state (no
 * struct scsi_pr) has no such command. 1 when r is answered. */
static int spc2_refused(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	int ten = c->opcode == SCSI_RESERVE10 || c->opcode == SCSI_RELEASE10;
	if ((c->b1 & 0x13) || (ten && c->alloc_len)) {
		scsi_invalid_cdb(r);
		return 1;
	}
	if (!lu->pr) {
		scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x20, 0x00);
		return 1;
	}
	return 0;
}

void scsi_cmd_reserve(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	struct scsi_pr *pr = lu->pr;
	if (spc2_refused(lu, r, c))
		return;
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&pr->lock);
	/* A persistent reservation shuts RESERVE out (SPC-4 5.13.3). */
	if (pr->resv || (pr->spc2[0] && strcmp(pr->spc2, lu->port))) {
		conflict(r);
		return;
	}
	fb_strlcpy(pr->spc2, lu->port, sizeof(pr->spc2));
	set_active(pr);
}

void scsi_cmd_release(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	struct scsi_pr *pr = lu->pr;
	if (spc2_refused(lu, r, c))
		return;
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&pr->lock);
	/* Another nexus's RELEASE is GOOD and changes nothing (SPC-2 7.17). */
	if (!strcmp(pr->spc2, lu->port))
		pr->spc2[0] = 0;
	set_active(pr);
}

/* --- PERSISTENT RESERVE IN --- */

static void reply_buf(struct scsi_req *r, uint8_t *b, uint32_t len, uint32_t alloc_len)
{
	r->in_len = len < alloc_len ? len : alloc_len;
	if (r->in_len) {
		r->in = b;
	} else {
		free(b);
	}
}

/* An iSCSI TransportID, format 01b (SPC-4 7.6.4.6): name,i,0xISID. */
static uint32_t transport_id(const char *port, uint8_t *b)
{
	size_t n = strlen(port) + 1, padded = (n + 3) & ~(size_t)3;
	if (padded < 20)
		padded = 20;
	b[0] = 0x40 | 0x05;
	fb_put_be16(b + 2, (uint16_t)padded);
	memcpy(b + 4, port, n - 1);
	return (uint32_t)(4 + padded);
}

void scsi_cmd_pr_in(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	struct scsi_pr *pr = lu->pr;
	if (!pr) {
		scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x20, 0x00);
		return;
	}
	/* Room for the largest answer: READ FULL STATUS of every key. */
	size_t cap = 8 + (size_t)PR_MAX_REG * (24 + 4 + SCSI_PORT_LEN + 4);
	uint8_t *b = calloc(1, cap);
	if (!b) {
		scsi_io_error(r, -ENOMEM, 0);
		return;
	}
	uint32_t len = 8;
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&pr->lock);
	fb_put_be32(b, pr->gen);
	switch (c->sa) {
	case 0: /* READ KEYS */
		for (int i = 0; i < pr->nreg; i++, len += 8)
			fb_put_be64(b + len, pr->reg[i].key);
		break;
	case 1: /* READ RESERVATION */
		if (pr->resv) {
			struct pr_reg *h =
			    all_registrants(pr->type) ? NULL : find_reg(pr, pr->holder);
			fb_put_be64(b + 8, h ? h->key : 0);
			b[8 + 13] = pr->type; /* scope 0: the logical unit */
			len += 16;
		}
		break;
	case 2: /* REPORT CAPABILITIES */
		fb_put_be16(b, 8);
		b[2] = 0x10 | (pr->path[0] ? 0x01 : 0); /* CRH, PTPL_C */
		b[3] = 0x80 | (pr->aptpl ? 0x01 : 0);   /* TMV, PTPL_A */
		b[4] =
		    0x80 | 0x40 | 0x20 | 0x08 | 0x02; /* WR_EX_AR EX_AC_RO WR_EX_RO EX_AC WR_EX */
		b[5] = 0x01;                          /* EX_AC_AR */
		reply_buf(r, b, 8, c->alloc_len);
		return;
	default: /* 3: READ FULL STATUS */
		for (int i = 0; i < pr->nreg; i++) {
			uint8_t *d = b + len;
			fb_put_be64(d, pr->reg[i].key);
			if (is_holder(pr, pr->reg[i].port)) {
				d[12] = 0x01; /* R_HOLDER */
				d[13] = pr->type;
			}
			fb_put_be16(d + 18, 1); /* relative target port identifier */
			uint32_t tl = transport_id(pr->reg[i].port, d + 24);
			fb_put_be32(d + 20, tl);
			len += 24 + tl;
		}
		break;
	}
	fb_put_be32(b + 4, len - 8);
	reply_buf(r, b, len, c->alloc_len);
}

/* --- PERSISTENT RESERVE OUT --- */

static void param_invalid(struct scsi_req *r)
{
	scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x26, 0x00); /* invalid field in param list */
}

/* REGISTER and REGISTER AND IGNORE EXISTING KEY (lock held). */
static void pr_register(struct scsi_pr *pr, const char *port, struct scsi_req *r, int ignore,
                        uint64_t key, uint64_t sakey, int aptpl)
{
	struct pr_reg *g = find_reg(pr, port);
	if (!ignore && (g ? g->key != key : key != 0)) {
		conflict(r);
		return;
	}
	if (aptpl && !pr->path[0]) {
		param_invalid(r); /* this unit keeps nothing across power loss */
		return;
	}
	if (!g && !sakey)
		return; /* nothing registered, nothing to register */
	if (!sakey) {
		/* Unregister; a holder's reservation goes with it, and an
		 * all-registrants one with the last registrant. */
		if (pr->resv && !all_registrants(pr->type) && !strcmp(pr->holder, port)) {
			if (pr->type == PR_WE_RO || pr->type == PR_EA_RO)
				ua_others(pr, port, 0x2a, 0x04); /* reservations released */
			release_resv(pr);
		}
		drop_reg(pr, g);
		if (pr->resv && all_registrants(pr->type) && pr->nreg == 0)
			release_resv(pr);
	} else if (g) {
		g->key = sakey;
	} else {
		if (pr->nreg == PR_MAX_REG) {
			scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x55,
			               0x04); /* insufficient registration resources */
			return;
		}
		g = &pr->reg[pr->nreg++];
		fb_strlcpy(g->port, port, sizeof(g->port));
		g->key = sakey;
	}
	pr->aptpl = aptpl;
	pr->gen++;
}

/* PREEMPT, PREEMPT AND ABORT (lock held; the caller checked the key). */
static void pr_preempt(struct scsi_pr *pr, const char *port, struct scsi_req *r, uint8_t type,
                       uint64_t sakey)
{
	int removed = 0;
	if (pr->resv && all_registrants(pr->type) && sakey == 0) {
		/* Every other registration goes; the preemptor holds. */
		for (int i = 0; i < pr->nreg;) {
			if (strcmp(pr->reg[i].port, port)) {
				add_ua(pr, pr->reg[i].port, 0x2a,
				       0x05); /* registrations preempted */
				drop_reg(pr, &pr->reg[i]);
			} else {
				i++;
			}
		}
		pr->type = type;
		fb_strlcpy(pr->holder, all_registrants(type) ? "" : port, sizeof(pr->holder));
		pr->gen++;
		return;
	}
	if (sakey == 0) {
		param_invalid(r);
		return;
	}
	struct pr_reg *h = pr->resv && !all_registrants(pr->type) ? find_reg(pr, pr->holder) : NULL;
	int takes_over = h && h->key == sakey;
	for (int i = 0; i < pr->nreg;) {
		if (pr->reg[i].key == sakey && strcmp(pr->reg[i].port, port)) {
			add_ua(pr, pr->reg[i].port, 0x2a, 0x05);
			drop_reg(pr, &pr->reg[i]);
			removed++;
		} else {
			i++;
		}
	}
	if (takes_over) {
		/* The holder's key was preempted: the reservation moves to
		 * the preemptor, with the type it asked for. */
		pr->resv = 1;
		pr->type = type;
		fb_strlcpy(pr->holder, all_registrants(type) ? "" : port, sizeof(pr->holder));
	} else if (!removed) {
		conflict(r);
		return;
	}
	if (pr->resv && all_registrants(pr->type) && pr->nreg == 0)
		release_resv(pr);
	pr->gen++;
}

void scsi_cmd_pr_out(struct scsi_lu *lu, struct scsi_req *r, const struct scsi_cdb *c)
{
	struct scsi_pr *pr = lu->pr;
	if (!pr) {
		scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x20, 0x00);
		return;
	}
	uint8_t scope = r->cdb[2] >> 4, type = r->cdb[2] & 0x0f;
	r->out_need = c->alloc_len;
	/* The basic parameter list is 24 bytes; SPEC_I_PT (longer lists)
	 * is not supported. */
	if (c->alloc_len != 24 || r->out_len < 24) {
		scsi_set_sense(r, SCSI_SENSE_ILLEGAL_REQUEST, 0x1a, 0x00); /* param list length */
		return;
	}
	const uint8_t *p = r->out;
	uint64_t key = fb_get_be64(p), sakey = fb_get_be64(p + 8);
	int aptpl = p[20] & 0x01;
	if (p[20] & 0x0c) { /* SPEC_I_PT, ALL_TG_PT */
		param_invalid(r);
		return;
	}
	int with_type = c->sa == PRO_RESERVE || c->sa == PRO_RELEASE || c->sa == PRO_PREEMPT ||
	                c->sa == PRO_PREEMPT_ABORT;
	if (with_type && (scope != 0 || !type_ok(type))) {
		scsi_invalid_cdb(r);
		return;
	}
	ACQUIRE_LOCK_FOR_CURRENT_SCOPE(&pr->lock);
	/* A RESERVE(6) holder shuts persistent reservations out too. */
	if (pr->spc2[0] && strcmp(pr->spc2, lu->port)) {
		conflict(r);
		return;
	}
	uint32_t gen = pr->gen;
	int resv = pr->resv;
	uint8_t rtype = pr->type;
	char holder[SCSI_PORT_LEN];
	memcpy(holder, pr->holder, sizeof(holder));
	if (c->sa == PRO_REGISTER || c->sa == PRO_REGISTER_IGNORE) {
		pr_register(pr, lu->port, r, c->sa == PRO_REGISTER_IGNORE, key, sakey, aptpl);
	} else {
		struct pr_reg *g = find_reg(pr, lu->port);
		if (!g || g->key != key) {
			conflict(r);
			return;
		}
		switch (c->sa) {
		case PRO_RESERVE:
			if (pr->resv) {
				if (!is_holder(pr, lu->port) || pr->type != type)
					conflict(r);
				return;
			}
			pr->resv = 1;
			pr->type = type;
			fb_strlcpy(pr->holder, all_registrants(type) ? "" : lu->port,
			           sizeof(pr->holder));
			break;
		case PRO_RELEASE:
			if (!is_holder(pr, lu->port))
				return; /* GOOD, nothing to release */
			if (pr->type != type) {
				scsi_set_sense(
				    r, SCSI_SENSE_ILLEGAL_REQUEST, 0x26,
				    0x04); /* invalid release of persistent reservation */
				return;
			}
			if (pr->type != PR_WE && pr->type != PR_EA)
				ua_others(pr, lu->port, 0x2a, 0x04); /* reservations released */
			release_resv(pr);
			break;
		case PRO_CLEAR:
			ua_others(pr, lu->port, 0x2a, 0x03); /* reservations preempted */
			release_resv(pr);
			pr->nreg = 0;
			pr->gen++;
			break;
		default: /* PREEMPT, PREEMPT AND ABORT */
			/* The preempted nexuses' commands are not aborted:
			 * each runs to completion on its own session before
			 * this one could be seen (no task set is shared). */
			pr_preempt(pr, lu->port, r, type, sakey);
			break;
		}
	}
	set_active(pr);
	int changed = pr->gen != gen || pr->resv != resv || pr->type != rtype ||
	              strcmp(pr->holder, holder) || c->sa == PRO_REGISTER ||
	              c->sa == PRO_REGISTER_IGNORE;
	if (r->status == SCSI_STATUS_GOOD && changed && pr->path[0]) {
		int rc = save(pr);
		if (rc < 0)
			log_warnx("%s: cannot keep persistent reservations in %s: %s", pr->name,
			          pr->path, strerror(-rc));
	}
}
