/* pkcs11_shim.c — a PKCS#11 module for the integration tests that makes a software token behave like a
 * smart card in the two ways SoftHSM2 cannot.
 *
 * Why: SoftHSM2 has no PIN retry counter: a wrong PIN returns CKR_PIN_INCORRECT forever, the PIN never
 * locks, and C_GetTokenInfo never shows CKF_USER_PIN_COUNT_LOW / CKF_USER_PIN_FINAL_TRY /
 * CKF_USER_PIN_LOCKED. A real card locks its PIN after a few failures, so a client that retries a wrong PIN
 * (or logs in to a token that says it is locked) destroys the card for its user. And SoftHSM2 signs
 * RSA-PSS, which older cards cannot; TLS 1.3 requires RSA-PSS for an RSA client key.
 *
 * What it is: the module named by MTLS_SHIM_TARGET (e.g. /usr/lib/softhsm/libsofthsm2.so) is loaded and
 * every call is forwarded to it through a copy of its CK_FUNCTION_LIST; a few entries are replaced.
 *
 * What it models (environment variables, read at every call, so a test can change them between runs):
 *   MTLS_SHIM_STATE      file holding the card's counters as two lines, "failures N" and "logins M":
 *                        failures = consecutive failed user logins since the last success (the card's
 *                        retry counter), logins = every C_Login call the module received (so a test can
 *                        tell how often a client tried). A test presets "failures 3" to start locked.
 *                        Unset: no card model, C_Login and C_GetTokenInfo are forwarded unchanged.
 *   MTLS_SHIM_MAX_TRIES  failures that lock the user PIN (default 3, as most cards).
 *     C_Login (user):    with failures >= MAX_TRIES it returns CKR_PIN_LOCKED and the real module is not
 *                        asked (a locked card does not check the PIN, not even a correct one); otherwise it
 *                        is forwarded: CKR_PIN_INCORRECT adds a failure, CKR_OK resets failures to 0.
 *                        SO logins are counted but do not touch the user PIN's counter.
 *     C_InitPIN:         success resets failures (the SO unblocks the user PIN, as on a card).
 *     C_GetTokenInfo:    the real flags, with the PIN flags as a card sets them: CKF_USER_PIN_COUNT_LOW
 *                        after a failure, CKF_USER_PIN_FINAL_TRY when one more failure locks the PIN,
 *                        CKF_USER_PIN_LOCKED (alone) once it is locked.
 *   MTLS_SHIM_NO_PSS=1   an older card: no RSA-PSS on the card. The PSS mechanisms (CKM_RSA_PKCS_PSS,
 *                        CKM_SHAx_RSA_PKCS_PSS) are absent from C_GetMechanismList, C_GetMechanismInfo
 *                        answers CKR_MECHANISM_INVALID for them, and so does C_SignInit with one of them.
 *                        Raw RSA (CKM_RSA_X_509) goes as well: with it the host pads PSS itself and has the
 *                        card do the bare RSA operation, and libp11 falls back to exactly that (tried: with
 *                        the PSS mechanisms alone hidden, openssl s_client -engine pkcs11 completes a
 *                        TLS 1.3 handshake with the RSA key), so a card with raw RSA is not one that
 *                        cannot sign PSS. CKM_RSA_PKCS (PKCS#1 v1.5, usable under TLS 1.2) stays.
 * One counter for the whole module (one card): a suite gives each case that needs the model its own state
 * file. The state file is locked (flock) around each read-modify-write, so concurrent processes see one
 * card.
 *
 * A PKCS#11 module must hand out a function list that outlives the call, so the copied list and the
 * pointer to the target's list are the module's only static data (filled once, under pthread_once).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define SHIM_EXPORT __attribute__((visibility("default")))

static CK_FUNCTION_LIST shim_list;       /* the target's list with our entries */
static CK_FUNCTION_LIST_PTR target_list; /* the target's own list (its functions) */
static CK_RV load_result = CKR_GENERAL_ERROR;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

/* ---------------------------------------------------------------------------------------------------- */
/* the card's counters */

struct card_state {
  long failures;
  long logins;
};

static long max_tries(void) {
  const char* text = getenv("MTLS_SHIM_MAX_TRIES");
  char* end = NULL;
  long n = text ? strtol(text, &end, 10) : 0;
  return (text && *text && end && *end == '\0' && n > 0) ? n : 3;
}

static int no_pss(void) {
  const char* text = getenv("MTLS_SHIM_NO_PSS");
  return text && strcmp(text, "1") == 0;
}

/* Opens and locks the state file (creating it); returns the fd or -1 when there is no card model. */
static int state_open_locked(int lock_kind) {
  const char* path = getenv("MTLS_SHIM_STATE");
  if (!path || !*path) return -1;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    fprintf(stderr, "pkcs11_shim: cannot open MTLS_SHIM_STATE %s: %s\n", path, strerror(errno));
    return -1;
  }
  while (flock(fd, lock_kind) != 0) {
    if (errno != EINTR) break;
  }
  return fd;
}

static struct card_state state_read(int fd) {
  struct card_state st = {0, 0};
  char buf[128];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return st;
  buf[n] = '\0';
  const char* line = buf;
  while (line && *line) {
    sscanf(line, "failures %ld", &st.failures);
    sscanf(line, "logins %ld", &st.logins);
    line = strchr(line, '\n');
    if (line) line++;
  }
  return st;
}

static void state_write(int fd, struct card_state st) {
  char buf[128];
  int n = snprintf(buf, sizeof buf, "failures %ld\nlogins %ld\n", st.failures, st.logins);
  if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
    fprintf(stderr, "pkcs11_shim: cannot write MTLS_SHIM_STATE: %s\n", strerror(errno));
  }
}

static void state_close(int fd) {
  flock(fd, LOCK_UN);
  close(fd);
}

/* ---------------------------------------------------------------------------------------------------- */
/* the replaced entries */

static CK_RV shim_Login(CK_SESSION_HANDLE session, CK_USER_TYPE user_type, CK_UTF8CHAR_PTR pin,
                        CK_ULONG pin_len) {
  int fd = state_open_locked(LOCK_EX);
  if (fd < 0) return target_list->C_Login(session, user_type, pin, pin_len);
  struct card_state st = state_read(fd);
  st.logins++;
  CK_RV rv;
  if (user_type != CKU_SO && st.failures >= max_tries()) {
    rv = CKR_PIN_LOCKED; /* a locked card does not look at the PIN */
  } else {
    rv = target_list->C_Login(session, user_type, pin, pin_len);
    if (user_type != CKU_SO && rv == CKR_PIN_INCORRECT) st.failures++;
    if (user_type != CKU_SO && rv == CKR_OK) st.failures = 0;
  }
  state_write(fd, st);
  state_close(fd);
  return rv;
}

static CK_RV shim_InitPIN(CK_SESSION_HANDLE session, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len) {
  CK_RV rv = target_list->C_InitPIN(session, pin, pin_len);
  int fd = rv == CKR_OK ? state_open_locked(LOCK_EX) : -1;
  if (fd >= 0) {
    struct card_state st = state_read(fd);
    st.failures = 0;
    state_write(fd, st);
    state_close(fd);
  }
  return rv;
}

static CK_RV shim_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info) {
  CK_RV rv = target_list->C_GetTokenInfo(slot, info);
  if (rv != CKR_OK || !info) return rv;
  int fd = state_open_locked(LOCK_SH);
  if (fd < 0) return rv;
  struct card_state st = state_read(fd);
  state_close(fd);
  long max = max_tries();
  info->flags &= ~(CK_FLAGS)(CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED);
  if (st.failures >= max) {
    info->flags |= CKF_USER_PIN_LOCKED;
  } else {
    if (st.failures > 0) info->flags |= CKF_USER_PIN_COUNT_LOW;
    if (st.failures == max - 1) info->flags |= CKF_USER_PIN_FINAL_TRY;
  }
  return rv;
}

static int is_hidden_mechanism(CK_MECHANISM_TYPE m) {
  switch (m) {
    case CKM_RSA_PKCS_PSS:
    case CKM_SHA1_RSA_PKCS_PSS:
    case CKM_SHA224_RSA_PKCS_PSS:
    case CKM_SHA256_RSA_PKCS_PSS:
    case CKM_SHA384_RSA_PKCS_PSS:
    case CKM_SHA512_RSA_PKCS_PSS:
    case CKM_RSA_X_509: return 1;
    default: return 0;
  }
}

/* The target's list without the hidden mechanisms, answered by the PKCS#11 size-query convention. */
static CK_RV shim_GetMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count) {
  if (!no_pss()) return target_list->C_GetMechanismList(slot, list, count);
  if (!count) return CKR_ARGUMENTS_BAD;
  CK_ULONG n = 0;
  CK_RV rv = target_list->C_GetMechanismList(slot, NULL, &n);
  if (rv != CKR_OK) return rv;
  CK_MECHANISM_TYPE* all = calloc(n ? n : 1, sizeof *all);
  if (!all) return CKR_HOST_MEMORY;
  rv = target_list->C_GetMechanismList(slot, all, &n);
  CK_ULONG kept = 0;
  for (CK_ULONG i = 0; rv == CKR_OK && i < n; i++) {
    if (!is_hidden_mechanism(all[i])) all[kept++] = all[i];
  }
  if (rv == CKR_OK && list && *count < kept) {
    rv = CKR_BUFFER_TOO_SMALL;
  } else if (rv == CKR_OK && list) {
    memcpy(list, all, kept * sizeof *all);
  }
  if (rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL) *count = kept;
  free(all);
  return rv;
}

static CK_RV shim_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info) {
  if (no_pss() && is_hidden_mechanism(type)) return CKR_MECHANISM_INVALID;
  return target_list->C_GetMechanismInfo(slot, type, info);
}

static CK_RV shim_SignInit(CK_SESSION_HANDLE session, CK_MECHANISM_PTR mechanism, CK_OBJECT_HANDLE key) {
  if (no_pss() && mechanism && is_hidden_mechanism(mechanism->mechanism)) return CKR_MECHANISM_INVALID;
  return target_list->C_SignInit(session, mechanism, key);
}

/* ---------------------------------------------------------------------------------------------------- */
/* loading the target */

static void load_target(void) {
  const char* path = getenv("MTLS_SHIM_TARGET");
  if (!path || !*path) {
    fprintf(stderr, "pkcs11_shim: MTLS_SHIM_TARGET is not set\n");
    return;
  }
  void* handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    fprintf(stderr, "pkcs11_shim: cannot load MTLS_SHIM_TARGET: %s\n", dlerror());
    return;
  }
  CK_C_GetFunctionList get_list = (CK_C_GetFunctionList)dlsym(handle, "C_GetFunctionList");
  if (!get_list || get_list(&target_list) != CKR_OK || !target_list) {
    fprintf(stderr, "pkcs11_shim: %s has no usable C_GetFunctionList\n", path);
    return;
  }
  shim_list = *target_list;
  shim_list.C_GetFunctionList = C_GetFunctionList;
  shim_list.C_Login = shim_Login;
  shim_list.C_InitPIN = shim_InitPIN;
  shim_list.C_GetTokenInfo = shim_GetTokenInfo;
  shim_list.C_GetMechanismList = shim_GetMechanismList;
  shim_list.C_GetMechanismInfo = shim_GetMechanismInfo;
  shim_list.C_SignInit = shim_SignInit;
  load_result = CKR_OK;
}

SHIM_EXPORT CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
  if (!list) return CKR_ARGUMENTS_BAD;
  pthread_once(&load_once, load_target);
  if (load_result != CKR_OK) return load_result;
  *list = &shim_list;
  return CKR_OK;
}
