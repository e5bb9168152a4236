// The token survey: the module's own C API through dlopen, with p11-kit's pkcs11.h for the types only.
#include "mtls_probe/identity/pkcs11_token.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <p11-kit/pkcs11.h>
#include <sys/stat.h>

#include <array>
#include <cstring>
#include <memory>

namespace mtls_probe {
namespace {

constexpr size_t kMaxSlots = 64;
constexpr size_t kMaxObjects = 256;
constexpr unsigned long kMaxAttributeBytes =
    64 * 1024;  // a certificate's CKA_VALUE; labels and ids are small

IdentityFailure module_failure(IdentityProblem p, std::string message) {
  return IdentityFailure{p, std::move(message), ""};
}

std::string blank_trimmed(const unsigned char* text, size_t size) {
  std::string s(reinterpret_cast<const char*>(text), size);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

// The loaded module: dlopen handle and an initialised Cryptoki. C_Finalize only when this survey was the
// one that initialised it (a backend in the same process may be using the same module instance).
class LoadedModule {
 public:
  static Expected<std::unique_ptr<LoadedModule>, IdentityFailure> open(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
      return Unexpected{module_failure(IdentityProblem::pkcs11_module_not_found,
                                       "PKCS#11 module " + path + " does not exist")};
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = ::dlerror();
      return Unexpected{
          module_failure(IdentityProblem::pkcs11_module_failed,
                         "PKCS#11 module " + path + " could not be loaded: " + (why ? why : "?"))};
    }
    auto m = std::unique_ptr<LoadedModule>(new LoadedModule(handle));
    auto get = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle, "C_GetFunctionList"));
    if (get == nullptr || get(&m->fns_) != CKR_OK || m->fns_ == nullptr)
      return Unexpected{module_failure(IdentityProblem::pkcs11_module_failed,
                                       path + " is not a PKCS#11 module (no C_GetFunctionList)")};
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    const CK_RV rv = m->fns_->C_Initialize(&args);
    if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
      return Unexpected{module_failure(IdentityProblem::pkcs11_module_failed,
                                       "PKCS#11 module " + path + " failed to initialise: " + ckr_name(rv))};
    m->initialised_here_ = rv == CKR_OK;
    return m;
  }
  ~LoadedModule() {
    if (initialised_here_) fns_->C_Finalize(nullptr);
    ::dlclose(handle_);
  }
  LoadedModule(const LoadedModule&) = delete;
  LoadedModule& operator=(const LoadedModule&) = delete;
  CK_FUNCTION_LIST* fns() const { return fns_; }

 private:
  explicit LoadedModule(void* handle) : handle_(handle) {}
  void* handle_;
  CK_FUNCTION_LIST* fns_ = nullptr;
  bool initialised_here_ = false;
};

class Session {
 public:
  Session(CK_FUNCTION_LIST* fns, CK_SLOT_ID slot) : fns_(fns) {
    if (fns_->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &h_) != CKR_OK)
      h_ = CK_INVALID_HANDLE;
  }
  ~Session() {
    if (h_ != CK_INVALID_HANDLE) fns_->C_CloseSession(h_);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  bool ok() const { return h_ != CK_INVALID_HANDLE; }
  CK_SESSION_HANDLE handle() const { return h_; }

 private:
  CK_FUNCTION_LIST* fns_;
  CK_SESSION_HANDLE h_ = CK_INVALID_HANDLE;
};

// One attribute's bytes (nullopt: absent, sensitive, or over the bound).
std::optional<std::string> attribute(CK_FUNCTION_LIST* fns, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                                     CK_ATTRIBUTE_TYPE type) {
  CK_ATTRIBUTE a{type, nullptr, 0};
  if (fns->C_GetAttributeValue(s, o, &a, 1) != CKR_OK || a.ulValueLen == CK_UNAVAILABLE_INFORMATION ||
      a.ulValueLen > kMaxAttributeBytes)
    return std::nullopt;
  std::string value(a.ulValueLen, '\0');
  a.pValue = value.data();
  if (fns->C_GetAttributeValue(s, o, &a, 1) != CKR_OK) return std::nullopt;
  value.resize(a.ulValueLen);
  return value;
}

template <typename T>
std::optional<T> scalar_attribute(CK_FUNCTION_LIST* fns, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
                                  CK_ATTRIBUTE_TYPE type) {
  auto bytes = attribute(fns, s, o, type);
  if (!bytes || bytes->size() != sizeof(T)) return std::nullopt;
  T v{};
  std::memcpy(&v, bytes->data(), sizeof(T));
  return v;
}

const char* class_name(CK_OBJECT_CLASS c) {
  switch (c) {
    case CKO_CERTIFICATE: return "certificate";
    case CKO_PUBLIC_KEY: return "public-key";
    case CKO_PRIVATE_KEY: return "private-key";
    case CKO_SECRET_KEY: return "secret-key";
    case CKO_DATA: return "data";
    default: return "other";
  }
}

std::string key_type_name(CK_KEY_TYPE k) {
  switch (k) {
    case CKK_RSA: return "RSA";
    case CKK_EC: return "EC";
    case CKK_DSA: return "DSA";
    case 0x40UL: return "EdDSA";  // CKK_EC_EDWARDS (PKCS#11 3.0)
    default: return fmt::format("0x{:x}", k);
  }
}

TokenObject read_object(CK_FUNCTION_LIST* fns, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o) {
  TokenObject obj;
  const auto cls = scalar_attribute<CK_OBJECT_CLASS>(fns, s, o, CKA_CLASS);
  obj.object_class = cls ? class_name(*cls) : "other";
  obj.label = attribute(fns, s, o, CKA_LABEL).value_or("");
  obj.id = attribute(fns, s, o, CKA_ID).value_or("");
  if (cls == CKO_PUBLIC_KEY || cls == CKO_PRIVATE_KEY) {
    if (auto kt = scalar_attribute<CK_KEY_TYPE>(fns, s, o, CKA_KEY_TYPE)) obj.key_type = key_type_name(*kt);
  }
  if (cls == CKO_PRIVATE_KEY) {
    if (auto sign = scalar_attribute<CK_BBOOL>(fns, s, o, CKA_SIGN)) obj.can_sign = *sign != CK_FALSE;
  }
  if (cls == CKO_CERTIFICATE) obj.cert_der = attribute(fns, s, o, CKA_VALUE).value_or("");
  return obj;
}

void list_objects(CK_FUNCTION_LIST* fns, CK_SESSION_HANDLE s, const Pkcs11Uri& uri, TokenSurvey& out) {
  if (fns->C_FindObjectsInit(s, nullptr, 0) != CKR_OK) return;
  std::array<CK_OBJECT_HANDLE, 32> batch{};
  while (true) {
    CK_ULONG n = 0;
    if (fns->C_FindObjects(s, batch.data(), batch.size(), &n) != CKR_OK || n == 0) break;
    for (CK_ULONG i = 0; i < n; ++i) {
      if (out.objects.size() == kMaxObjects) {
        out.objects_truncated = true;
        break;
      }
      TokenObject obj = read_object(fns, s, batch[i]);
      obj.matches_uri = object_matches(uri, obj.label, obj.id);
      out.objects.push_back(std::move(obj));
    }
    if (out.objects_truncated) break;
  }
  fns->C_FindObjectsFinal(s);
}

void list_mechanisms(CK_FUNCTION_LIST* fns, CK_SLOT_ID slot, TokenSurvey& out) {
  std::array<CK_MECHANISM_TYPE, 512> mechs{};
  CK_ULONG n = mechs.size();
  if (fns->C_GetMechanismList(slot, mechs.data(), &n) != CKR_OK) return;
  for (CK_ULONG i = 0; i < n && i < mechs.size(); ++i) {
    switch (mechs[i]) {
      case CKM_RSA_PKCS: out.mechanisms.emplace_back("RSA-PKCS"); break;
      case CKM_RSA_X_509: out.mechanisms.emplace_back("RSA-X-509"); break;
      case CKM_RSA_PKCS_PSS: out.mechanisms.emplace_back("RSA-PKCS-PSS"); break;
      case CKM_ECDSA: out.mechanisms.emplace_back("ECDSA"); break;
      default: break;
    }
  }
}

TokenInfo token_info(CK_SLOT_ID slot, const CK_TOKEN_INFO& ti) {
  TokenInfo t;
  t.slot_id = slot;
  t.label = blank_trimmed(ti.label, sizeof ti.label);
  t.manufacturer = blank_trimmed(ti.manufacturerID, sizeof ti.manufacturerID);
  t.model = blank_trimmed(ti.model, sizeof ti.model);
  t.serial = blank_trimmed(ti.serialNumber, sizeof ti.serialNumber);
  t.login_required = (ti.flags & CKF_LOGIN_REQUIRED) != 0;
  t.pin_initialized = (ti.flags & CKF_USER_PIN_INITIALIZED) != 0;
  t.pin_locked = (ti.flags & CKF_USER_PIN_LOCKED) != 0;
  t.pin_count_low = (ti.flags & CKF_USER_PIN_COUNT_LOW) != 0;
  t.pin_final_try = (ti.flags & CKF_USER_PIN_FINAL_TRY) != 0;
  return t;
}

}  // namespace

std::string default_pkcs11_module() {
  for (const char* p :
       {"/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so", "/usr/lib/aarch64-linux-gnu/p11-kit-proxy.so",
        "/usr/lib64/p11-kit-proxy.so", "/usr/lib/p11-kit-proxy.so"}) {
    struct stat st {};
    if (::stat(p, &st) == 0) return p;
  }
  return "";
}

bool object_matches(const Pkcs11Uri& uri, const std::string& label, const std::string& id) {
  return (!uri.object || *uri.object == label) && (!uri.id || *uri.id == id);
}

bool token_matches(const Pkcs11Uri& uri, const TokenInfo& t) {
  return (!uri.token || *uri.token == t.label) &&
         (!uri.manufacturer || *uri.manufacturer == t.manufacturer) &&
         (!uri.serial || *uri.serial == t.serial) && (!uri.model || *uri.model == t.model) &&
         (!uri.slot_id || *uri.slot_id == std::to_string(t.slot_id));
}

Expected<TokenSurvey, IdentityFailure> survey_tokens(const std::string& module, const Pkcs11Uri& uri) {
  auto loaded = LoadedModule::open(module);
  if (!loaded) return Unexpected{loaded.error()};
  CK_FUNCTION_LIST* fns = (*loaded)->fns();
  TokenSurvey out;
  out.module = module;
  CK_INFO info{};
  if (fns->C_GetInfo(&info) == CKR_OK) {
    out.library_description = blank_trimmed(info.libraryDescription, sizeof info.libraryDescription);
    out.library_manufacturer = blank_trimmed(info.manufacturerID, sizeof info.manufacturerID);
  }
  std::array<CK_SLOT_ID, kMaxSlots> slots{};
  CK_ULONG n = slots.size();
  const CK_RV rv = fns->C_GetSlotList(CK_TRUE, slots.data(), &n);
  if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL)
    return Unexpected{
        module_failure(IdentityProblem::pkcs11_module_failed,
                       "PKCS#11 module " + module + " could not list its slots: " + ckr_name(rv))};
  for (CK_ULONG i = 0; i < n && i < slots.size(); ++i) {
    CK_TOKEN_INFO ti{};
    if (fns->C_GetTokenInfo(slots[i], &ti) != CKR_OK) continue;  // removed between the two calls
    out.tokens.push_back(token_info(slots[i], ti));
    if (token_matches(uri, out.tokens.back())) out.matching.push_back(out.tokens.size() - 1);
  }
  if (out.matching.size() != 1) return out;
  const CK_SLOT_ID slot = out.tokens[out.matching[0]].slot_id;
  list_mechanisms(fns, slot, out);
  Session session(fns, slot);
  if (!session.ok()) return out;
  CK_SESSION_INFO si{};
  if (fns->C_GetSessionInfo(session.handle(), &si) == CKR_OK)
    out.logged_in = si.state == CKS_RO_USER_FUNCTIONS || si.state == CKS_RW_USER_FUNCTIONS;
  list_objects(fns, session.handle(), uri, out);
  return out;
}

std::string ckr_name(unsigned long rv) {
  switch (rv) {
    case CKR_OK: return "CKR_OK";
    case CKR_GENERAL_ERROR: return "CKR_GENERAL_ERROR";
    case CKR_DEVICE_ERROR: return "CKR_DEVICE_ERROR";
    case CKR_DEVICE_REMOVED: return "CKR_DEVICE_REMOVED";
    case CKR_FUNCTION_NOT_SUPPORTED: return "CKR_FUNCTION_NOT_SUPPORTED";
    case CKR_KEY_FUNCTION_NOT_PERMITTED: return "CKR_KEY_FUNCTION_NOT_PERMITTED";
    case CKR_KEY_TYPE_INCONSISTENT: return "CKR_KEY_TYPE_INCONSISTENT";
    case CKR_MECHANISM_INVALID: return "CKR_MECHANISM_INVALID";
    case CKR_MECHANISM_PARAM_INVALID: return "CKR_MECHANISM_PARAM_INVALID";
    case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT";
    case CKR_PIN_INVALID: return "CKR_PIN_INVALID";
    case CKR_PIN_LEN_RANGE: return "CKR_PIN_LEN_RANGE";
    case CKR_PIN_EXPIRED: return "CKR_PIN_EXPIRED";
    case CKR_PIN_LOCKED: return "CKR_PIN_LOCKED";
    case CKR_TOKEN_NOT_PRESENT: return "CKR_TOKEN_NOT_PRESENT";
    case CKR_TOKEN_NOT_RECOGNIZED: return "CKR_TOKEN_NOT_RECOGNIZED";
    case CKR_USER_NOT_LOGGED_IN: return "CKR_USER_NOT_LOGGED_IN";
    case CKR_USER_PIN_NOT_INITIALIZED: return "CKR_USER_PIN_NOT_INITIALIZED";
    case CKR_CRYPTOKI_ALREADY_INITIALIZED: return "CKR_CRYPTOKI_ALREADY_INITIALIZED";
    case CKR_ARGUMENTS_BAD: return "CKR_ARGUMENTS_BAD";
    default: return fmt::format("CKR_0x{:x}", rv);
  }
}

}  // namespace mtls_probe
