// Graceful shutdown: SIGTERM/SIGINT are blocked in every thread and awaited by main.
#pragma once

namespace pep {

// Call first in main(), before any thread starts, so threads inherit the blocked mask.
void BlockShutdownSignals();
// Blocks until SIGTERM or SIGINT arrives; returns the signal number.
int WaitForShutdownSignal();

}  // namespace pep
