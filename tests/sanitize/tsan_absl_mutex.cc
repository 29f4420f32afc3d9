// ThreadSanitizer and Debian's Abseil: libabsl_synchronization is not built with TSan, so TSan
// cannot see that an absl::Mutex (every lock of ours, and gRPC's) orders the accesses it
// guards, and would call all of them races. The library calls these functions through the PLT
// (its own calls too), so the definitions below, linked into each executable of the TSan build,
// take their place: each calls the library's function (found with dlsym(RTLD_NEXT)) and tells
// TSan what it did — acquire after taking the lock, release before giving it up, and the same
// around each Condition evaluation, which absl runs under the mutex on the waiting or the
// unlocking thread. Linked only when PEP_SANITIZE=thread.
#include <dlfcn.h>

#include <cstdint>
#include <cstdio>
#include <cerrno>
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

// The mutex whose waiters' conditions this thread may evaluate now: absl evaluates a waiter's
// Condition under the mutex, on the waiting thread (Await, LockWhen) or on the thread that
// unlocks (Unlock, CondVar waits). Eval acquires and releases it around the evaluation.
thread_local void* current_mutex = nullptr;

struct Current {
  explicit Current(void* mu) : saved(current_mutex) { current_mutex = mu; }
  ~Current() { current_mutex = saved; }
  void* saved;
};

// Debian's Abseil leaves deadlock detection on; its graph is guarded by an internal spinlock
// TSan cannot see (and the services switch it off anyway).
__attribute__((constructor)) void NoDeadlockDetection() {
  Real<void (*)(int)>("_ZN4absl7debian329SetMutexDeadlockDetectionModeENS0_15OnDeadlockCycleE")(0);
}

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
// Unlock, ReaderUnlock: release before letting go (the unlock may evaluate waiters' conditions).
void _ZN4absl7debian35Mutex6UnlockEv(void* mu) {
  PEP_REAL(void (*)(void*), _ZN4absl7debian35Mutex6UnlockEv);
  __tsan_release(mu);
  Current c(mu);
  real(mu);
}
void _ZN4absl7debian35Mutex12ReaderUnlockEv(void* mu) {
  PEP_REAL(void (*)(void*), _ZN4absl7debian35Mutex12ReaderUnlockEv);
  __tsan_release(mu);
  Current c(mu);
  real(mu);
}
// A condition is read under its mutex, by whichever thread absl has evaluate it.
bool _ZNK4absl7debian39Condition4EvalEv(const void* cond) {
  PEP_REAL(bool (*)(const void*), _ZNK4absl7debian39Condition4EvalEv);
  void* mu = current_mutex;
  if (mu) __tsan_acquire(mu);
  const bool r = real(cond);
  if (mu) __tsan_release(mu);
  return r;
}
// LockWhen and friends: acquire once held.
void _ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(void* mu, const void* cond) {
  PEP_REAL(void (*)(void*, const void*), _ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE);
  Current c(mu);
  real(mu, cond);
  __tsan_acquire(mu);
}
void _ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(void* mu, const void* cond) {
  PEP_REAL(void (*)(void*, const void*), _ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE);
  Current c(mu);
  real(mu, cond);
  __tsan_acquire(mu);
}
bool _ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(void* mu, const void* cond, Duration d) {
  PEP_REAL(bool (*)(void*, const void*, Duration), _ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE);
  Current c(mu);
  const bool r = real(mu, cond, d);
  __tsan_acquire(mu);
  return r;
}
bool _ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(void* mu, const void* cond, Time t) {
  PEP_REAL(bool (*)(void*, const void*, Time), _ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE);
  Current c(mu);
  const bool r = real(mu, cond, t);
  __tsan_acquire(mu);
  return r;
}
// Await: gives the lock up while waiting.
void _ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(void* mu, const void* cond) {
  PEP_REAL(void (*)(void*, const void*), _ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE);
  __tsan_release(mu);  // what was written before waiting
  Current c(mu);
  real(mu, cond);
  __tsan_acquire(mu);
}
bool _ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(void* mu, const void* cond, Duration d) {
  PEP_REAL(bool (*)(void*, const void*, Duration), _ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE);
  __tsan_release(mu);  // what was written before waiting
  Current c(mu);
  const bool r = real(mu, cond, d);
  __tsan_acquire(mu);
  return r;
}
bool _ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(void* mu, const void* cond, Time t) {
  PEP_REAL(bool (*)(void*, const void*, Time), _ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE);
  __tsan_release(mu);  // what was written before waiting
  Current c(mu);
  const bool r = real(mu, cond, t);
  __tsan_acquire(mu);
  return r;
}
// CondVar waits give the mutex up meanwhile.
void _ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(void* cv, void* mu) {
  PEP_REAL(void (*)(void*, void*), _ZN4absl7debian37CondVar4WaitEPNS0_5MutexE);
  __tsan_release(mu);
  Current c(mu);
  real(cv, mu);
  __tsan_acquire(mu);
}
bool _ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(void* cv, void* mu, Duration d) {
  PEP_REAL(bool (*)(void*, void*, Duration), _ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE);
  __tsan_release(mu);
  Current c(mu);
  const bool r = real(cv, mu, d);
  __tsan_acquire(mu);
  return r;
}
bool _ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE(void* cv, void* mu, Time t) {
  PEP_REAL(bool (*)(void*, void*, Time), _ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE);
  __tsan_release(mu);
  Current c(mu);
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

// librdkafka uses C11 threads. glibc's thrd_create, mtx_* and cnd_* reach pthread through
// internal calls that TSan does not intercept: a thread so made has no TSan state (the first
// instrumented callback it runs crashes TSan), and its locks order nothing in TSan's eyes. The
// definitions below route them through the intercepted pthread functions (glibc's mtx_t and
// cnd_t are pthread_mutex_t and pthread_cond_t underneath).
#include <pthread.h>
#include <threads.h>

namespace {
struct ThreadStart {
  thrd_start_t func;
  void* arg;
};
void* RunC11Thread(void* p) {
  ThreadStart start = *static_cast<ThreadStart*>(p);
  delete static_cast<ThreadStart*>(p);
  return reinterpret_cast<void*>(static_cast<intptr_t>(start.func(start.arg)));
}
int C11(int pthread_result) {
  return pthread_result == 0 ? thrd_success
                             : pthread_result == ETIMEDOUT ? thrd_timedout
                             : pthread_result == EBUSY ? thrd_busy
                                                       : thrd_error;
}
}  // namespace

extern "C" {
int thrd_create(thrd_t* t, thrd_start_t func, void* arg) {
  auto* start = new ThreadStart{func, arg};
  const int r = pthread_create(reinterpret_cast<pthread_t*>(t), nullptr, RunC11Thread, start);
  if (r != 0) delete start;
  return r == 0 ? thrd_success : r == EAGAIN ? thrd_nomem : thrd_error;
}
int thrd_join(thrd_t t, int* res) {
  void* out = nullptr;
  const int r = pthread_join(static_cast<pthread_t>(t), &out);
  if (r == 0 && res) *res = static_cast<int>(reinterpret_cast<intptr_t>(out));
  return C11(r);
}
int thrd_detach(thrd_t t) { return C11(pthread_detach(static_cast<pthread_t>(t))); }
int mtx_init(mtx_t* m, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  if (type & mtx_recursive) pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  const int r = pthread_mutex_init(reinterpret_cast<pthread_mutex_t*>(m), &attr);
  pthread_mutexattr_destroy(&attr);
  return C11(r);
}
void mtx_destroy(mtx_t* m) { pthread_mutex_destroy(reinterpret_cast<pthread_mutex_t*>(m)); }
int mtx_lock(mtx_t* m) { return C11(pthread_mutex_lock(reinterpret_cast<pthread_mutex_t*>(m))); }
int mtx_trylock(mtx_t* m) { return C11(pthread_mutex_trylock(reinterpret_cast<pthread_mutex_t*>(m))); }
int mtx_unlock(mtx_t* m) { return C11(pthread_mutex_unlock(reinterpret_cast<pthread_mutex_t*>(m))); }
int cnd_init(cnd_t* c) { return C11(pthread_cond_init(reinterpret_cast<pthread_cond_t*>(c), nullptr)); }
void cnd_destroy(cnd_t* c) { pthread_cond_destroy(reinterpret_cast<pthread_cond_t*>(c)); }
int cnd_signal(cnd_t* c) { return C11(pthread_cond_signal(reinterpret_cast<pthread_cond_t*>(c))); }
int cnd_broadcast(cnd_t* c) { return C11(pthread_cond_broadcast(reinterpret_cast<pthread_cond_t*>(c))); }
int cnd_wait(cnd_t* c, mtx_t* m) {
  return C11(pthread_cond_wait(reinterpret_cast<pthread_cond_t*>(c), reinterpret_cast<pthread_mutex_t*>(m)));
}
int cnd_timedwait(cnd_t* c, mtx_t* m, const struct timespec* at) {
  return C11(pthread_cond_timedwait(reinterpret_cast<pthread_cond_t*>(c),
                                    reinterpret_cast<pthread_mutex_t*>(m), at));
}
}  // extern "C"
