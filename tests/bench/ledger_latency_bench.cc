// pep-ledger-latency-bench (issue 14): how soon a write acknowledged through the gateway is in
// the audit timeline, as people meet it — the real gateway, the four services and a real
// broker, each its own process; the client here. Side by side, on the same broker, the floor:
// a raw librdkafka produce (acks=all, acknowledged) then consume by an already assigned consumer.
//   write: POST /v1/startups/{id}/milestones (a coordinator token), one at a time; from its
//          201 to the milestone's entry in GetTimeline (pep-audit polled every 0.5 ms, direct).
//   raw:   produce one record (acks=all, waiting for its delivery report) until the consumer,
//          already assigned, has it.
// Prints p50/p90/p99/max of each over N (default 200) and the ratios.
// Usage: pep-ledger-latency-bench [writes=200]
#include <algorithm>
#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "events/kafka.h"
#include "pepiniere/audit/v1/log.pb.h"
#include "services/audit/ledger.h"
#include "integration/gateway_fixture.h"

namespace pep::testing {
namespace {

struct Figures {
  double p50, p90, p99, max;
};

Figures Percentiles(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[std::min(ms.size() - 1, static_cast<size_t>(q * static_cast<double>(ms.size())))]; };
  return {at(0.5), at(0.9), at(0.99), ms.back()};
}

void Print(const char* what, const Figures& f) {
  std::printf("%-58s p50 %7.2f ms  p90 %7.2f ms  p99 %7.2f ms  max %7.2f ms\n", what, f.p50, f.p90, f.p99, f.max);
}

std::vector<double> RawProduceConsume(const std::string& brokers, int n) {
  const std::string topic = "bench.latency.raw";
  if (!events::EnsureTopics(brokers, {{topic, 1, 1, {}}}).ok()) std::exit(1);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  auto pconf = events::MakeConf({{"bootstrap.servers", brokers}, {"acks", "all"}, {"linger.ms", "0"},
                                 {"enable.idempotence", "true"}});
  char err[512];
  events::KafkaHandle producer(rd_kafka_new(RD_KAFKA_PRODUCER, pconf->release(), err, sizeof err));
  auto cconf = events::MakeConf({{"bootstrap.servers", brokers}, {"group.id", "bench-latency"},
                                 {"enable.auto.commit", "false"}, {"fetch.wait.max.ms", "20"}});
  events::KafkaHandle consumer(rd_kafka_new(RD_KAFKA_CONSUMER, cconf->release(), err, sizeof err));
  events::KafkaPartitionList parts(rd_kafka_topic_partition_list_new(1));
  // A fresh topic read from its beginning (END would be resolved at the first fetch, possibly
  // after the first record).
  rd_kafka_topic_partition_list_add(parts.get(), topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(consumer.get(), parts.get());
  std::vector<double> out;
  for (int i = -10; i < n; ++i) {  // 10 warm-up rounds
    const std::string value = absl::StrCat("m", i);
    const absl::Time sent = absl::Now();
    rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    const absl::Time acked = sent;
    while (true) {
      rd_kafka_poll(producer.get(), 0);  // delivery reports
      events::KafkaMessage m(rd_kafka_consumer_poll(consumer.get(), 1));
      if (m && !m->err && std::string_view(static_cast<const char*>(m->payload), m->len) == value) break;
      if (absl::Now() - acked > absl::Seconds(30)) {
        std::fprintf(stderr, "raw: record %d never consumed\n", i);
        std::exit(1);
      }
    }
    if (i >= 0) out.push_back(absl::ToDoubleMilliseconds(absl::Now() - sent));
  }
  return out;
}

// Every record of `topic` (all partitions) with its CreateTime: (ms, ce_id header or, for the
// log topic, each entry's ce_id).
std::map<std::string, int64_t> CreateTimes(const std::string& brokers, const std::string& topic, int partitions,
                                           bool log) {
  auto conf = events::MakeConf({{"bootstrap.servers", brokers}, {"group.id", "bench-times"},
                                {"enable.auto.commit", "false"}, {"enable.partition.eof", "true"}});
  char err[512];
  events::KafkaHandle rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf->release(), err, sizeof err));
  events::KafkaPartitionList parts(rd_kafka_topic_partition_list_new(partitions));
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(parts.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk.get(), parts.get());
  std::map<std::string, int64_t> out;
  int eofs = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (eofs < partitions && absl::Now() < deadline) {
    events::KafkaMessage m(rd_kafka_consumer_poll(rk.get(), 100));
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      ++eofs;
      continue;
    }
    if (m->err) continue;
    const int64_t ts = rd_kafka_message_timestamp(m.get(), nullptr);
    if (log) {
      pepiniere::audit::v1::LogRecord rec;
      if (!rec.ParseFromArray(m->payload, static_cast<int>(m->len)) || !rec.has_bundle()) continue;
      for (const auto& le : rec.bundle().entries()) {
        audit::LedgerRecord r;
        std::string h;
        if (audit::ParseEntryV2(le.entry(), &r, &h).ok()) out[r.envelope.id] = ts;
      }
    } else if (auto e = events::EnvelopeOf(m.get()); e.ok()) {
      out[e->id] = ts;
    }
  }
  return out;
}

int Run(int n) {
  Platform p;
  auto s = p.Post<::pepiniere::incubation::v1::Startup>(
      "/v1/startups", p.coordinator(), R"({"name":"Mesure","mission":"Mesurer la latence","incubator":"lab06"})");
  auto& audit = p.audit();
  auto visible = [&](const std::string& title) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("x-pep-actor", "bench");
    ctx.AddMetadata("x-pep-roles", "coordinator");
    ctx.AddMetadata("x-pep-gateway-key", Platform::kKey);
    av1::GetTimelineRequest req;
    req.set_id(s.id());
    av1::Timeline t;
    if (!audit.stub().GetTimeline(&ctx, req, &t).ok()) return false;
    for (int i = t.entries_size() - 1; i >= 0; --i) {
      if (absl::StrContains(t.entries(i).summary(), title)) return true;
    }
    return false;
  };
  std::vector<double> ack_to_visible, request_to_visible, request_to_ack;
  std::vector<int64_t> visible_ms, acked_ms;  // per milestone, for the breakdown below
  for (int i = -10; i < n; ++i) {
    const std::string title = absl::StrCat("Jalon de mesure ", i + 10);
    const absl::Time t0 = absl::Now();
    gateway::HttpResult r = p.Call("POST", absl::StrCat("/v1/startups/", s.id(), "/milestones"), p.coordinator(),
                                   absl::StrCat(R"({"title":")", title, R"(","kind":"MILESTONE_KIND_TEAM","idempotency_key":"k)",
                                                i + 10, R"(","date":")", FormatRfc3339(absl::Now()), "\"}"));
    const absl::Time acked = absl::Now();
    if (r.status != 201) {
      std::fprintf(stderr, "milestone: HTTP %d %s\n", r.status, r.body.c_str());
      return 1;
    }
    const absl::Time deadline = acked + absl::Seconds(30);
    while (!visible(title)) {
      if (absl::Now() > deadline) {
        std::fprintf(stderr, "milestone %d never reached the timeline\n", i);
        return 1;
      }
      absl::SleepFor(absl::Microseconds(500));
    }
    const absl::Time seen = absl::Now();
    if (i < 0) continue;
    visible_ms.push_back(absl::ToUnixMillis(seen));
    acked_ms.push_back(absl::ToUnixMillis(acked));
    ack_to_visible.push_back(absl::ToDoubleMilliseconds(seen - acked));
    request_to_visible.push_back(absl::ToDoubleMilliseconds(seen - t0));
    request_to_ack.push_back(absl::ToDoubleMilliseconds(acked - t0));
  }
  // Where the time goes: the milestones' events in the source topic (when the relay produced
  // them) and in the log (when the sequencer produced their bundle), by ce_id, in order.
  {
    const auto source = CreateTimes(p.brokers(), "pepiniere.incubation.events", 6, false);
    const auto logged = CreateTimes(p.brokers(), AuditProcess::LogTopic(audit.ledger()), 1, true);
    std::vector<std::pair<int64_t, std::string>> milestones;  // (source time, ce_id) of this start-up's
    for (const auto& [id, ts] : source) {
      if (logged.count(id)) milestones.emplace_back(ts, id);
    }
    std::sort(milestones.begin(), milestones.end());
    if (milestones.size() >= static_cast<size_t>(n)) {
      milestones.erase(milestones.begin(), milestones.end() - n);  // the last n: the measured ones
      std::vector<double> relay, sequencer, index;
      for (int i = 0; i < n; ++i) {
        const auto& [ts, id] = milestones[static_cast<size_t>(i)];
        relay.push_back(static_cast<double>(ts - acked_ms[static_cast<size_t>(i)]));
        sequencer.push_back(static_cast<double>(logged.at(id) - ts));
        index.push_back(static_cast<double>(visible_ms[static_cast<size_t>(i)] - logged.at(id)));
      }
      Print("  of which 201 -> produced by the service's outbox relay", Percentiles(relay));
      Print("  of which relay -> bundle produced by the sequencer", Percentiles(sequencer));
      Print("  of which bundle produced -> committed, indexed, visible", Percentiles(index));
    }
  }
  const std::vector<double> raw = RawProduceConsume(p.brokers(), n);
  const Figures a = Percentiles(ack_to_visible), raw_f = Percentiles(raw);
  Print("gateway POST milestone: request -> 201", Percentiles(request_to_ack));
  Print("gateway POST milestone: 201 -> in the audit timeline", a);
  Print("gateway POST milestone: request -> in the audit timeline", Percentiles(request_to_visible));
  Print("raw Kafka, same broker: produce (acks=all) -> consumed", raw_f);
  std::printf("ratio p50 (201 -> timeline) / (raw produce -> consume): %.1f x\n", a.p50 / raw_f.p50);
  std::printf("ratio p99 (201 -> timeline) / (raw produce -> consume): %.1f x   (target <= 3 x)\n", a.p99 / raw_f.p99);
  return 0;
}

}  // namespace
}  // namespace pep::testing

int main(int argc, char** argv) {
  return pep::testing::Run(argc > 1 ? std::atoi(argv[1]) : 200);
}
