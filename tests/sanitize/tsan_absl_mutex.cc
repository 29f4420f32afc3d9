// ThreadSanitizer and Debian's Abseil: libabsl_synchronization is not built with TSan, so TSan
// cannot see that an absl::Mutex (every lock of ours, and gRPC's) orders the accesses it
// guards, and would call all of them races. The library calls these functions through the PLT
// (its own calls too), so the definitions below, linked into each executable of the TSan build,
// take their place: each calls the library's function (found with dlsym(RTLD_NEXT)) and tells
// TSan what it did — acquire after taking the lock, release before giving it up, both around a
// wait that gives it up meanwhile. Linked only when PEP_SANITIZE=thread.
#include <dlfcn.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);

namespace {

// absl::Duration and absl::Time as the ABI passes them (trivially copyable, 16 bytes).
struct Duration {
  int64_t hi;
  uint32_t lo;
};
struct Time {
  Duration d;
};

template <typename F>
F Real(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (f == nullptr) {
    std::fprintf(stderr, "tsan_absl_mutex: %s not found\n", name);
    std::abort();
  }
  return reinterpret_cast<F>(f);
}

#define PEP_REAL(type, name)                       \
  static const auto real = Real<type>(#name);      \
  (void)0

}  // namespace

extern "C" {

// Mutex::Lock, ReaderLock: acquire once held.
void _ZN4absl7debian35Mutex4LockEv(void* mu) {
  PEP_REAL(void (*)(void*), _ZN4absl7debian35Mutex4LockEv);
  real(mu);
  __tsan_acquire(mu);
}
void _ZN4absl7debian35Mutex10ReaderLockEv(void* mu) {
  PEP_REAL(void (*)(void*), _ZN4absl7debian35Mutex10ReaderLockEv);
  real(mu);
  __tsan_acquire(mu);
}
bool _ZN4absl7debian35Mutex7TryLockEv(void* mu) {
  PEP_REAL(bool (*)(void*), _ZN4absl7debian35Mutex7TryLockEv);
  const bool held = real(mu);
  if (held) __tsan_acquire(mu);
  return held;
}
bool _ZN4absl7debian35Mutex13ReaderTryLockEv(void* mu) {
  PEP_REAL(bool (*)(void*), _ZN4absl7debian35Mutex13ReaderTryLockEv);
  const bool held = real(mu);
  if (held) __tsan_acquire(mu);
  return held;
}
// Unlock, ReaderUnlock: release before letting go.
void _ZN4absl7debian35Mutex6UnlockEv(void* mu) {
  PEP_REAL(void (*)(void*), _ZN4absl7debian35Mutex6UnlockEv);
  __tsan_release(mu);
  real(mu);
}
void _ZN4absl7debian35Mutex12ReaderUnlockEv(void* mu) {
  PEP_REAL(void (*)(void*), _ZN4absl7debian35Mutex12ReaderUnlockEv);
  __tsan_release(mu);
  real(mu);
}
// LockWhen and friends: acquire once held.
void _ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(void* mu, const void* cond) {
  PEP_REAL(void (*)(void*, const void*), _ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE);
  real(mu, cond);
  __tsan_acquire(mu);
}
void _ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(void* mu, const void* cond) {
  PEP_REAL(void (*)(void*, const void*), _ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE);
  real(mu, cond);
  __tsan_acquire(mu);
}
bool _ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(void* mu, const void* cond, Duration d) {
  PEP_REAL(bool (*)(void*, const void*, Duration), _ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE);
  const bool r = real(mu, cond, d);
  __tsan_acquire(mu);
  return r;
}
bool _ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(void* mu, const void* cond, Time t) {
  PEP_REAL(bool (*)(void*, const void*, Time), _ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE);
  const bool r = real(mu, cond, t);
  __tsan_acquire(mu);
  return r;
}
// Await: gives the lock up while waiting.
void _ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(void* mu, const void* cond) {
  PEP_REAL(void (*)(void*, const void*), _ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE);
  __tsan_release(mu);
  real(mu, cond);
  __tsan_acquire(mu);
}
bool _ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(void* mu, const void* cond, Duration d) {
  PEP_REAL(bool (*)(void*, const void*, Duration), _ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE);
  __tsan_release(mu);
  const bool r = real(mu, cond, d);
  __tsan_acquire(mu);
  return r;
}
bool _ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(void* mu, const void* cond, Time t) {
  PEP_REAL(bool (*)(void*, const void*, Time), _ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE);
  __tsan_release(mu);
  const bool r = real(mu, cond, t);
  __tsan_acquire(mu);
  return r;
}
// CondVar waits give the mutex up meanwhile.
void _ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(void* cv, void* mu) {
  PEP_REAL(void (*)(void*, void*), _ZN4absl7debian37CondVar4WaitEPNS0_5MutexE);
  __tsan_release(mu);
  real(cv, mu);
  __tsan_acquire(mu);
}
bool _ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(void* cv, void* mu, Duration d) {
  PEP_REAL(bool (*)(void*, void*, Duration), _ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE);
  __tsan_release(mu);
  const bool r = real(cv, mu, d);
  __tsan_acquire(mu);
  return r;
}
bool _ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE(void* cv, void* mu, Time t) {
  PEP_REAL(bool (*)(void*, void*, Time), _ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE);
  __tsan_release(mu);
  const bool r = real(cv, mu, t);
  __tsan_acquire(mu);
  return r;
}
// Notification: what happened before Notify is seen after a wait returns (HasBeenNotified is
// inline: its atomic load is instrumented, the store inside the library is not, so Notify
// releases on the object too).
void _ZN4absl7debian312Notification6NotifyEv(void* n) {
  PEP_REAL(void (*)(void*), _ZN4absl7debian312Notification6NotifyEv);
  __tsan_release(n);
  real(n);
}
void _ZNK4absl7debian312Notification19WaitForNotificationEv(const void* n) {
  PEP_REAL(void (*)(const void*), _ZNK4absl7debian312Notification19WaitForNotificationEv);
  real(n);
  __tsan_acquire(const_cast<void*>(n));
}
bool _ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(const void* n, Duration d) {
  PEP_REAL(bool (*)(const void*, Duration), _ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE);
  const bool r = real(n, d);
  if (r) __tsan_acquire(const_cast<void*>(n));
  return r;
}

}  // extern "C"
