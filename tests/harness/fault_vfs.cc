#include "harness/fault_vfs.h"

#include <sqlite3.h>

#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace pep::testing {

namespace {

// What a file must go back to at a cut: the bytes each write since the last sync overwrote
// (newest last), and its size at the last sync.
struct FileState {
  sqlite3_int64 synced_size = 0;
  struct Undo {
    sqlite3_int64 offset;
    std::string bytes;
  };
  std::vector<Undo> undo;
};

struct Shim {
  sqlite3_vfs vfs{};
  sqlite3_vfs* real = nullptr;
  std::mutex mu;
  std::map<std::string, std::shared_ptr<FileState>> files;  // by path
  std::atomic<bool> off{false};
  std::atomic<long> syncs{0};
  std::atomic<int> fail{0};  // an SQLite error code every write answers, 0: none
};

Shim& S() {
  static Shim* s = new Shim();
  return *s;
}

struct PcFile {
  sqlite3_file base;  // must be first
  sqlite3_file* real;
  std::string* path;
  std::shared_ptr<FileState>* state;  // null for files without a name (temp files)
};

sqlite3_file* Real(sqlite3_file* f) { return reinterpret_cast<PcFile*>(f)->real; }
FileState* StateOf(sqlite3_file* f) {
  auto* p = reinterpret_cast<PcFile*>(f);
  return p->state ? p->state->get() : nullptr;
}

int Close(sqlite3_file* f) {
  auto* p = reinterpret_cast<PcFile*>(f);
  int rc = p->real->pMethods ? p->real->pMethods->xClose(p->real) : SQLITE_OK;
  delete p->path;
  delete p->state;
  sqlite3_free(p->real);
  return rc;
}
int Read(sqlite3_file* f, void* buf, int n, sqlite3_int64 off) { return Real(f)->pMethods->xRead(Real(f), buf, n, off); }
// Writes, truncates and syncs hold the shim's lock across the real call, so none is half done
// when Cut() puts the files back (a slower test, a simpler truth).
int Write(sqlite3_file* f, const void* buf, int n, sqlite3_int64 off) {
  std::lock_guard<std::mutex> l(S().mu);
  if (S().off.load()) return SQLITE_OK;  // the machine is off: nothing reaches the disk
  if (const int code = S().fail.load()) return code;
  if (FileState* st = StateOf(f)) {
    sqlite3_int64 size = 0;
    Real(f)->pMethods->xFileSize(Real(f), &size);
    if (off < size) {  // bytes beyond the end need no undo: the cut truncates them
      const int keep = static_cast<int>(std::min<sqlite3_int64>(n, size - off));
      std::string old(static_cast<size_t>(keep), '\0');
      Real(f)->pMethods->xRead(Real(f), old.data(), keep, off);
      st->undo.push_back({off, std::move(old)});
    }
  }
  return Real(f)->pMethods->xWrite(Real(f), buf, n, off);
}
int Truncate(sqlite3_file* f, sqlite3_int64 size) {
  std::lock_guard<std::mutex> l(S().mu);
  if (S().off.load()) return SQLITE_OK;
  if (const int code = S().fail.load()) return code == SQLITE_FULL ? SQLITE_IOERR_TRUNCATE : code;
  if (FileState* st = StateOf(f)) {
    sqlite3_int64 cur = 0;
    Real(f)->pMethods->xFileSize(Real(f), &cur);
    if (size < cur) {  // keep the tail that the cut would give back
      std::string old(static_cast<size_t>(cur - size), '\0');
      Real(f)->pMethods->xRead(Real(f), old.data(), static_cast<int>(cur - size), size);
      st->undo.push_back({size, std::move(old)});
    }
  }
  return Real(f)->pMethods->xTruncate(Real(f), size);
}
int Sync(sqlite3_file* f, int flags) {
  std::lock_guard<std::mutex> l(S().mu);
  if (S().off.load()) return SQLITE_OK;
  if (const int code = S().fail.load()) return code == SQLITE_FULL ? SQLITE_IOERR_FSYNC : code;
  int rc = Real(f)->pMethods->xSync(Real(f), flags);
  if (rc == SQLITE_OK) {
    S().syncs.fetch_add(1);
    if (FileState* st = StateOf(f)) {
      st->undo.clear();
      Real(f)->pMethods->xFileSize(Real(f), &st->synced_size);
    }
  }
  return rc;
}
int FileSize(sqlite3_file* f, sqlite3_int64* size) { return Real(f)->pMethods->xFileSize(Real(f), size); }
int Lock(sqlite3_file* f, int l) { return Real(f)->pMethods->xLock(Real(f), l); }
int Unlock(sqlite3_file* f, int l) { return Real(f)->pMethods->xUnlock(Real(f), l); }
int CheckReservedLock(sqlite3_file* f, int* out) { return Real(f)->pMethods->xCheckReservedLock(Real(f), out); }
int FileControl(sqlite3_file* f, int op, void* arg) { return Real(f)->pMethods->xFileControl(Real(f), op, arg); }
int SectorSize(sqlite3_file* f) { return Real(f)->pMethods->xSectorSize(Real(f)); }
int DeviceCharacteristics(sqlite3_file* f) { return Real(f)->pMethods->xDeviceCharacteristics(Real(f)); }
int ShmMap(sqlite3_file* f, int pg, int sz, int extend, void volatile** p) {
  return Real(f)->pMethods->xShmMap(Real(f), pg, sz, extend, p);
}
int ShmLock(sqlite3_file* f, int offset, int n, int flags) { return Real(f)->pMethods->xShmLock(Real(f), offset, n, flags); }
void ShmBarrier(sqlite3_file* f) { Real(f)->pMethods->xShmBarrier(Real(f)); }
int ShmUnmap(sqlite3_file* f, int del) { return Real(f)->pMethods->xShmUnmap(Real(f), S().off.load() ? 0 : del); }

// Version 2: shared memory (WAL) but no memory-mapped I/O, so every write passes through Write.
const sqlite3_io_methods kMethods = {
    2, Close, Read, Write, Truncate, Sync, FileSize, Lock, Unlock, CheckReservedLock, FileControl,
    SectorSize, DeviceCharacteristics, ShmMap, ShmLock, ShmBarrier, ShmUnmap, nullptr, nullptr};

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
  auto* p = reinterpret_cast<PcFile*>(f);
  p->base.pMethods = nullptr;
  p->real = static_cast<sqlite3_file*>(sqlite3_malloc(S().real->szOsFile));
  if (p->real == nullptr) return SQLITE_NOMEM;
  std::memset(p->real, 0, static_cast<size_t>(S().real->szOsFile));
  p->path = nullptr;
  p->state = nullptr;
  int rc = S().real->xOpen(S().real, name, p->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    sqlite3_free(p->real);
    return rc;
  }
  if (name != nullptr) {
    p->path = new std::string(name);
    std::lock_guard<std::mutex> l(S().mu);
    auto& st = S().files[*p->path];
    if (!st) {
      st = std::make_shared<FileState>();
      p->real->pMethods->xFileSize(p->real, &st->synced_size);  // what exists was synced before us
    }
    p->state = new std::shared_ptr<FileState>(st);
  }
  p->base.pMethods = &kMethods;
  (void)vfs;
  return SQLITE_OK;
}
int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  std::lock_guard<std::mutex> l(S().mu);
  if (S().off.load()) return SQLITE_OK;
  S().files.erase(name);
  return S().real->xDelete(S().real, name, sync_dir);
}
int Access(sqlite3_vfs*, const char* n, int flags, int* out) { return S().real->xAccess(S().real, n, flags, out); }
int FullPathname(sqlite3_vfs*, const char* n, int size, char* out) { return S().real->xFullPathname(S().real, n, size, out); }
void* DlOpen(sqlite3_vfs*, const char* n) { return S().real->xDlOpen(S().real, n); }
void DlError(sqlite3_vfs*, int n, char* msg) { S().real->xDlError(S().real, n, msg); }
void (*DlSym(sqlite3_vfs*, void* h, const char* sym))(void) { return S().real->xDlSym(S().real, h, sym); }
void DlClose(sqlite3_vfs*, void* h) { S().real->xDlClose(S().real, h); }
int Randomness(sqlite3_vfs*, int n, char* out) { return S().real->xRandomness(S().real, n, out); }
int Sleep(sqlite3_vfs*, int us) { return S().real->xSleep(S().real, us); }
int CurrentTime(sqlite3_vfs*, double* t) { return S().real->xCurrentTime(S().real, t); }
int GetLastError(sqlite3_vfs*, int n, char* msg) { return S().real->xGetLastError(S().real, n, msg); }
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* t) { return S().real->xCurrentTimeInt64(S().real, t); }

}  // namespace

void FaultVfs::Install() {
  Shim& s = S();
  std::lock_guard<std::mutex> l(s.mu);
  if (s.real != nullptr) return;
  s.real = sqlite3_vfs_find(nullptr);
  s.vfs.iVersion = 2;
  s.vfs.szOsFile = static_cast<int>(sizeof(PcFile));
  s.vfs.mxPathname = s.real->mxPathname;
  s.vfs.zName = "pep-fault";
  s.vfs.xOpen = Open;
  s.vfs.xDelete = Delete;
  s.vfs.xAccess = Access;
  s.vfs.xFullPathname = FullPathname;
  s.vfs.xDlOpen = DlOpen;
  s.vfs.xDlError = DlError;
  s.vfs.xDlSym = DlSym;
  s.vfs.xDlClose = DlClose;
  s.vfs.xRandomness = Randomness;
  s.vfs.xSleep = Sleep;
  s.vfs.xCurrentTime = CurrentTime;
  s.vfs.xGetLastError = GetLastError;
  s.vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  sqlite3_vfs_register(&s.vfs, /*makeDflt=*/1);
}

namespace {

bool IsShm(const std::string& path) { return path.size() > 4 && path.compare(path.size() - 4, 4, "-shm") == 0; }

// Opens `path` with the machine's VFS and runs `fn` on it (the unix VFS shares the inode with the
// connections still open, so their locks stay).
template <typename Fn>
void WithRealFile(const std::string& path, Fn fn) {
  Shim& s = S();
  sqlite3_file* f = static_cast<sqlite3_file*>(sqlite3_malloc(s.real->szOsFile));
  std::memset(f, 0, static_cast<size_t>(s.real->szOsFile));
  int out = 0;
  if (s.real->xOpen(s.real, path.c_str(), f, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MAIN_DB, &out) == SQLITE_OK) {
    fn(f);
    f->pMethods->xClose(f);
  }
  sqlite3_free(f);
}

}  // namespace

void FaultVfs::Cut() {
  Shim& s = S();
  std::lock_guard<std::mutex> l(s.mu);
  s.off.store(true);
  for (auto& entry : s.files) {  // named, not bound: clang 14 cannot capture a binding
    const auto& path = entry.first;
    auto& st = entry.second;
    if (IsShm(path)) continue;  // still mapped by open connections: emptied at Restore
    WithRealFile(path, [&](sqlite3_file* f) {
      for (auto it = st->undo.rbegin(); it != st->undo.rend(); ++it) {  // newest first
        f->pMethods->xWrite(f, it->bytes.data(), static_cast<int>(it->bytes.size()), it->offset);
      }
      f->pMethods->xTruncate(f, st->synced_size);
    });
    st->undo.clear();
  }
}

void FaultVfs::Restore() {
  Shim& s = S();
  std::lock_guard<std::mutex> l(s.mu);
  for (auto& [path, st] : s.files) {
    if (IsShm(path)) WithRealFile(path, [](sqlite3_file* f) { f->pMethods->xTruncate(f, 0); });
  }
  s.files.clear();
  s.off.store(false);
}

long FaultVfs::Syncs() { return S().syncs.load(); }
void FaultVfs::FailWrites(int sqlite_code) { S().fail.store(sqlite_code); }
void FaultVfs::HealWrites() { S().fail.store(0); }

}  // namespace pep::testing
