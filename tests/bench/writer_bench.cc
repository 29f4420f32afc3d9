// pep-feedback-writer-bench: the group-commit writer alone, without gRPC: enqueues N answers
// at once (prepared as SubmitFeedback prepares them) and times until every one is durable
// (WAL, synchronous=FULL, answer + outbox row). Usage: pep-feedback-writer-bench [N=20000]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/uuid.h"
#include "common/proto_time.h"
#include "services/feedback/feedback_store.h"
int main(int argc, char** argv) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("pep-writer-bench-" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(dir);
  auto store = pep::feedback::FeedbackStore::Open(dir + "/feedback.db", pep::SystemClock::Get(), 512);
  if (!store.ok()) return 1;
  (*store)->StartWriter(nullptr);
  const int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  std::atomic<int> done{0};
  absl::Notification all;
  const absl::Time t0 = absl::Now();
  for (int i = 0; i < n; ++i) {
    pep::feedback::PendingAnswer a;
    a.feedback.set_id(pep::NewUuidV7(absl::Now()));
    a.feedback.set_startup_id("019aca55-9e00-7000-8000-000000000001");
    a.feedback.set_satisfaction(pepiniere::feedback::v1::SATISFACTION_GOOD);
    a.feedback.set_verbatim("Démarche rapide, j'ai reçu la réponse en deux jours. Merci !");
    *a.feedback.mutable_received_at() = pep::ToTimestamp(absl::Now());
    a.correlation_id = "x"; a.actor = "public";
    pep::feedback::FeedbackStore::Prepare(a, absl::Now());
    a.done = [&](absl::StatusOr<pepiniere::feedback::v1::Feedback>, bool) { if (++done == n) all.Notify(); };
    (*store)->Enqueue(std::move(a));
  }
  const absl::Time t1 = absl::Now();
  all.WaitForNotification();
  const absl::Time t2 = absl::Now();
  printf("prepare+enqueue %.1f us/item; write %.1f us/item over %lld batches\n",
         absl::ToDoubleMicroseconds(t1 - t0) / n, absl::ToDoubleMicroseconds(t2 - t0) / n,
         (long long)(*store)->batches());
  (*store)->StopWriter();
  store->reset();
  std::filesystem::remove_all(dir);
}
