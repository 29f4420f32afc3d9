// Storage faults for SQLite, in the tests (issue 16, parts 2 and 3): a simulated power cut, and
// a disk that is full or failing. The power cut: `kill -9` leaves the page cache intact,
// so a crash test cannot tell synchronous=FULL from OFF; a power cut loses every byte that was
// not fsync'ed. FaultVfs wraps the machine's VFS and becomes the process's default: writes go
// to the files as usual, but each file keeps what it overwrote (and its size) since its last
// xSync. Cut() first turns every later write, sync, truncate and delete into a no-op (the
// machine is off: closing connections cannot save anything), then puts every file back as it
// was at its last sync; Restore() empties the -shm files (shared memory does not outlive the
// machine; they stay mapped by the connections until those are closed).
// What was synced survives; nothing else does.
//
// Not modelled (there the cut is gentler than a real one): directory entries (a file created and
// synced is taken to exist) and torn sector writes.
//
// The failing disk: FailWrites(SQLITE_FULL or SQLITE_IOERR_WRITE) makes every write, truncate
// and sync fail with that code until HealWrites(); reads go on.
#pragma once

#include <string>

namespace pep::testing {

class FaultVfs {
 public:
  // Registers the shim as the default VFS (idempotent). Databases opened afterwards use it.
  static void Install();
  // Loses everything not synced; the files stay "off" until Restore().
  static void Cut();
  // Power back: later opens and writes behave normally again (state of every file forgotten).
  static void Restore();
  // Syncs seen since Install, all files together (a test can check FULL syncs, OFF does not).
  static long Syncs();
  // The disk refuses writes with `sqlite_code` (SQLITE_FULL, SQLITE_IOERR_WRITE…) until healed.
  static void FailWrites(int sqlite_code);
  static void HealWrites();
};

}  // namespace pep::testing
