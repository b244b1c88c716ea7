/*
 * sitekey.c - see sitekey.h.
 */
#include "sitekey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* The newest OpenSSL error as text (or what when there is none). */
static void ssl_why(char *why, size_t whylen, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(why, whylen, "%s%s%s", what, buf[0] ? ": " : "", buf);
	ERR_clear_error();
}

/* Write with mode, through a temporary file renamed into place. */
static int write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *crt, char *why,
                     size_t whylen)
{
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		snprintf(why, whylen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	fchmod(fd, mode);
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(tmp);
		snprintf(why, whylen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	int ok =
	    key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) : PEM_write_X509(f, crt);
	ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) < 0) {
		unlink(tmp);
		snprintf(why, whylen, "cannot write %s", path);
		return -1;
	}
	return 0;
}

static int add_ext(X509 *crt, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, crt, crt, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -1;
	int ok = X509_add_ext(crt, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

int sitekey_generate(const char *key_path, const char *crt_path, int bits, const char *cn, int days,
                     char *why, size_t whylen)
{
	int rc = -1;
	unsigned char serial[16];
	EVP_PKEY *key = EVP_RSA_gen((unsigned)bits);
	X509 *crt = X509_new();
	BIGNUM *bn = NULL;
	if (!key || !crt) {
		ssl_why(why, whylen, "cannot make an RSA key");
		goto out;
	}
	if (RAND_bytes(serial, sizeof(serial)) != 1) {
		ssl_why(why, whylen, "no random serial");
		goto out;
	}
	serial[0] &= 0x7f; /* a positive serial */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	X509_NAME *name = X509_get_subject_name(crt);
	if (!bn || !X509_set_version(crt, 2) ||
	    !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(crt)) ||
	    !X509_gmtime_adj(X509_getm_notBefore(crt), 0) ||
	    !X509_gmtime_adj(X509_getm_notAfter(crt), (long)days * 86400) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
	                                -1, 0) ||
	    !X509_set_issuer_name(crt, name) || !X509_set_pubkey(crt, key) ||
	    add_ext(crt, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(crt, NID_key_usage, "critical,digitalSignature") < 0 ||
	    add_ext(crt, NID_ext_key_usage, "codeSigning") < 0 ||
	    add_ext(crt, NID_subject_key_identifier, "hash") < 0 ||
	    !X509_sign(crt, key, EVP_sha256())) {
		ssl_why(why, whylen, "cannot make the certificate");
		goto out;
	}
	if (write_pem(key_path, 0600, key, NULL, why, whylen) < 0 ||
	    write_pem(crt_path, 0644, NULL, crt, why, whylen) < 0)
		goto out;
	rc = 0;
out:
	BN_free(bn);
	X509_free(crt);
	EVP_PKEY_free(key);
	return rc;
}

/* A passphrase callback that refuses: an encrypted key is not loaded. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(int *)u = 1;
	return -1;
}

int sitekey_import(const char *key_in, const char *crt_in, const char *key_path,
                   const char *crt_path, char *why, size_t whylen)
{
	int rc = -1, asked = 0;
	EVP_PKEY *key = NULL;
	X509 *crt = NULL;
	FILE *f = fopen(key_in, "r");
	if (!f) {
		snprintf(why, whylen, "%s: %s", key_in, strerror(errno));
		return -1;
	}
	key = PEM_read_PrivateKey(f, NULL, no_passphrase, &asked);
	fclose(f);
	if (!key) {
		ERR_clear_error();
		if (asked)
			snprintf(why, whylen,
			         "%s: the key is encrypted; give an unencrypted copy (e.g. "
			         "`openssl pkey -in KEY -out PLAIN.key`)",
			         key_in);
		else
			snprintf(why, whylen, "%s: not a PEM private key", key_in);
		goto out;
	}
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		snprintf(why, whylen, "%s: not an RSA key (UEFI Secure Boot signatures are RSA)",
		         key_in);
		goto out;
	}
	if (!(f = fopen(crt_in, "r"))) {
		snprintf(why, whylen, "%s: %s", crt_in, strerror(errno));
		goto out;
	}
	crt = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!crt) {
		ERR_clear_error();
		snprintf(why, whylen, "%s: not a PEM X.509 certificate", crt_in);
		goto out;
	}
	if (X509_check_private_key(crt, key) != 1) {
		ERR_clear_error();
		snprintf(why, whylen, "%s and %s do not match: the certificate is not the key's",
		         key_in, crt_in);
		goto out;
	}
	if (write_pem(key_path, 0600, key, NULL, why, whylen) < 0 ||
	    write_pem(crt_path, 0644, NULL, crt, why, whylen) < 0)
		goto out;
	rc = 0;
out:
	X509_free(crt);
	EVP_PKEY_free(key);
	return rc;
}

static void asn1_time_text(const ASN1_TIME *t, char *buf, size_t len)
{
	struct tm tm;
	if (ASN1_TIME_to_tm(t, &tm) == 1)
		strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
	else
		snprintf(buf, len, "?");
}

int sitekey_describe(const char *crt_path, char *out, size_t outlen, char *why, size_t whylen)
{
	FILE *f = fopen(crt_path, "r");
	if (!f) {
		snprintf(why, whylen, "%s: %s", crt_path, strerror(errno));
		return -1;
	}
	X509 *crt = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!crt) {
		ssl_why(why, whylen, "not a PEM certificate");
		return -1;
	}
	char subject[256], issuer[256], nb[64], na[64], fp[3 * EVP_MAX_MD_SIZE + 1] = "";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	X509_NAME_oneline(X509_get_subject_name(crt), subject, sizeof(subject));
	X509_NAME_oneline(X509_get_issuer_name(crt), issuer, sizeof(issuer));
	asn1_time_text(X509_get0_notBefore(crt), nb, sizeof(nb));
	asn1_time_text(X509_get0_notAfter(crt), na, sizeof(na));
	X509_digest(crt, EVP_sha256(), md, &mdlen);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(fp + 3 * i, sizeof(fp) - 3 * i, "%02X%s", md[i], i + 1 < mdlen ? ":" : "");
	EVP_PKEY *pk = X509_get0_pubkey(crt);
	int expired = X509_cmp_current_time(X509_get0_notAfter(crt)) < 0;
	snprintf(out, outlen,
	         "subject:     %s\nissuer:      %s\nsha256:      %s\nvalid from:  %s\n"
	         "valid until: %s%s\nkey:         %s-%d\n",
	         subject, issuer, fp, nb, na, expired ? " (EXPIRED)" : "",
	         pk && EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA ? "RSA" : "other",
	         pk ? EVP_PKEY_get_bits(pk) : 0);
	X509_free(crt);
	return 0;
}
