#include "services/audit/sequencer.h"

#include <pthread.h>

#include <filesystem>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/log.h"
#include "common/status.h"
#include "pepiniere/audit/v1/log.pb.h"
#include "tlog/entry_v2.h"
#include "services/audit/ledger.h"
#include "store/sqlite.h"

namespace pep::audit {

namespace av1 = pepiniere::audit::v1;

namespace {

struct RdError {
  rd_kafka_error_t* e;
  ~RdError() {
    if (e) rd_kafka_error_destroy(e);
  }
};

absl::Status TxnStatus(rd_kafka_error_t* raw, const char* what) {
  RdError err{raw};
  if (err.e == nullptr) return absl::OkStatus();
  const std::string msg = absl::StrCat(what, ": ", rd_kafka_error_string(err.e));
  if (rd_kafka_error_code(err.e) == RD_KAFKA_RESP_ERR__FENCED ||
      rd_kafka_error_code(err.e) == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
      rd_kafka_error_code(err.e) == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH) {
    return absl::AbortedError(absl::StrCat(msg, " (fenced: another sequencer took over)"));
  }
  return absl::UnavailableError(msg);
}

// A UUID's 128 bits (its 32 hex digits; dashes skipped). Anything else: a SHA-256 prefix.
absl::uint128 IdKey(std::string_view id) {
  uint64_t hi = 0, lo = 0;
  int digits = 0;
  for (char c : id) {
    if (c == '-') continue;
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (v < 0 || digits == 32) {
      digits = -1;
      break;
    }
    (digits < 16 ? hi : lo) = ((digits < 16 ? hi : lo) << 4) | static_cast<uint64_t>(v);
    ++digits;
  }
  if (digits == 32) return absl::MakeUint128(hi, lo);
  const tlog::Hash h = tlog::Sha256(id);
  std::memcpy(&hi, h.data(), 8);
  std::memcpy(&lo, h.data() + 8, 8);
  return absl::MakeUint128(hi, lo);
}

}  // namespace

bool Sequencer::Seen(std::string_view ce_id) const { return seen_.contains(IdKey(ce_id)); }
bool Sequencer::Insert(std::string_view ce_id) { return seen_.insert(IdKey(ce_id)).second; }

absl::StatusOr<std::string> LoadSigningKey(const std::string& path, bool create, const std::string& origin) {
  if (path.empty()) return absl::InvalidArgumentError("ledger_signing_key_file: required");
  if (create && !std::filesystem::exists(path)) {
    auto signer = tlog::NoteSigner::Generate(origin);
    if (!signer.ok()) return signer.status();
    const std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << signer->SignerKey() << "\n";
      if (!out) return absl::InternalError(absl::StrCat("ledger_signing_key_file: cannot write ", tmp));
    }
    std::filesystem::permissions(tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    std::filesystem::rename(tmp, path);
    std::ofstream(path + ".pub", std::ios::trunc) << signer->VerifierKey() << "\n";  // to publish
    LogInfo("ledger signing key created", {{"file", path}, {"verifier_key", signer->VerifierKey()}});
  }
  const std::string line = FirstLine(path);
  if (line.empty()) return absl::NotFoundError(absl::StrCat("ledger_signing_key_file: cannot read '", path, "'"));
  if (line.rfind("PRIVATE+KEY+", 0) == 0) return line;
  // Any other secret (a Kubernetes Secret of random text, say): the Ed25519 seed is its SHA-256,
  // the key's name the origin.
  if (line.size() < 32) {
    return absl::InvalidArgumentError("ledger_signing_key_file: neither a PRIVATE+KEY+… signer key nor a secret "
                                      "of at least 32 characters");
  }
  const tlog::Hash seed = tlog::Sha256(line);
  auto signer = tlog::NoteSigner::FromSeed(origin, std::string(reinterpret_cast<const char*>(seed.data()), 32));
  if (!signer.ok()) return signer.status();
  return signer->SignerKey();
}

absl::StatusOr<std::unique_ptr<Sequencer>> Sequencer::Create(SequencerOptions options) {
  std::unique_ptr<Sequencer> s(new Sequencer(std::move(options)));
  auto signer = tlog::NoteSigner::FromSignerKey(s->options_.signer_key);
  if (!signer.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("ledger_signing_key_file: ", signer.status().message()));
  }
  if (signer->name() != s->options_.origin) {
    return absl::InvalidArgumentError(absl::StrCat("ledger_signing_key_file: the key is named '", signer->name(),
                                                   "', the log's origin is '", s->options_.origin, "'"));
  }
  s->signer_ = std::make_unique<tlog::NoteSigner>(std::move(*signer));
  s->verifier_key_ = s->signer_->VerifierKey();
  events::KafkaProperties props = {
      {"bootstrap.servers", s->options_.brokers},
      {"group.id", s->options_.election_group},
      {"enable.auto.commit", "false"},
      // A dead leader's partition moves after this long: the hand-over time.
      {"session.timeout.ms", "6000"},
      {"heartbeat.interval.ms", "1000"},
      // A replica joining does not take the partition from a live leader (each take-over re-reads
      // the log): the sticky assignor leaves it where it is.
      {"partition.assignment.strategy", "cooperative-sticky"},
  };
  Sequencer* self = s.get();
  auto election = events::NewClient(RD_KAFKA_CONSUMER, props, s->options_.extra, [self](rd_kafka_conf_t* c) {
    rd_kafka_conf_set_opaque(c, self);
    rd_kafka_conf_set_rebalance_cb(c, &Sequencer::OnElection);
  });
  if (!election.ok()) return election.status();
  s->election_ = std::move(*election);
  rd_kafka_poll_set_consumer(s->election_.get());
  events::KafkaPartitionList topics(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(topics.get(), s->options_.log_topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(s->election_.get(), topics.get());
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return events::KafkaError(e, "subscribe");
  return s;
}

Sequencer::~Sequencer() { Stop(); }

void Sequencer::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "sequencer");
    Loop();
  });
}

void Sequencer::Stop() {
  if (stop_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
  if (election_) {
    rd_kafka_consumer_close(election_.get());  // leaves the group: a replica takes over at once
    election_.reset();
  }
}

void Sequencer::OnElection(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* self = static_cast<Sequencer*>(opaque);
  // Cooperative rebalancing: each callback names only the partitions added or taken away.
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk, partitions)) rd_kafka_error_destroy(e);
    if (partitions->cnt > 0) {
      rd_kafka_pause_partitions(rk, partitions);  // held, never read: the group only elects
      self->assigned_ = true;
    }
  } else {
    if (partitions->cnt > 0) {
      self->assigned_ = false;
      if (self->leading_) self->StepDown("the log partition moved to another replica");
    }
    if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk, partitions)) rd_kafka_error_destroy(e);
  }
}

void Sequencer::Loop() {
  absl::Time retry_at = absl::InfinitePast();
  while (!stop_.load()) {
    events::KafkaMessage m(rd_kafka_consumer_poll(election_.get(), leading_ ? 0 : 200));
    if (!assigned_) {
      if (leading_) StepDown("no longer elected");
      continue;
    }
    if (!leading_) {
      if (absl::Now() < retry_at) continue;
      if (absl::Status s = TakeOver(); !s.ok()) {
        LogWarn("sequencer: cannot take over", {{"error", std::string(s.message())}});
        StepDown("take-over failed");
        retry_at = absl::Now() + absl::Seconds(2);
      }
      continue;
    }
    auto r = Round(absl::Milliseconds(50));
    if (!r.ok()) {
      LogWarn("sequencer: round failed", {{"error", std::string(r.status().message())}});
      StepDown("a transaction failed");
      retry_at = absl::Now() + (absl::IsAborted(r.status()) ? absl::Seconds(5) : absl::Seconds(1));
    }
  }
  if (leading_) StepDown("stopping");
}

void Sequencer::StepDown(const std::string& why) {
  if (leading_) LogInfo("sequencer: stepping down", {{"why", why}});
  leading_ = false;
  if (producer_) {
    // An open transaction is aborted by whoever next calls init_transactions; nothing to flush.
    producer_.reset();
  }
  if (source_) {
    rd_kafka_assign(source_.get(), nullptr);
    source_.reset();
  }
  range_ = tlog::CompactRange();
  committed_ = tlog::CompactRange();
  seen_.clear();
  offsets_.clear();
  last_checkpoint_size_ = 0;
}

absl::Status Sequencer::TakeOver() {
  events::KafkaProperties props = {
      {"bootstrap.servers", options_.brokers},
      {"transactional.id", options_.transactional_id},
      {"compression.type", "lz4"},
      {"linger.ms", "1"},
      {"transaction.timeout.ms", "30000"},
      // The log topic takes 8 MiB records (a bundle may carry one event of a source's 1 MiB).
      {"message.max.bytes", "8388608"},
  };
  auto producer = events::NewClient(RD_KAFKA_PRODUCER, props, options_.extra);
  if (!producer.ok()) return producer.status();
  producer_ = std::move(*producer);
  // The fence: from here on, the previous sequencer's transaction is aborted and it can write
  // nothing more.
  PEP_RETURN_IF_ERROR(TxnStatus(rd_kafka_init_transactions(producer_.get(), 30000), "init_transactions"));
  PEP_RETURN_IF_ERROR(ReadLog());
  // A migration's last bundle carries the v1 offsets (where the sequencer goes on from): a log
  // without any source offset yet has not finished migrating, and the migration resumes
  // (skipping what it already appended) rather than leave the rest of v1 unmigrated.
  if (offsets_.empty() && !options_.v1_ledger.empty()) PEP_RETURN_IF_ERROR(Migrate());
  PEP_RETURN_IF_ERROR(AssignSources());
  leading_ = true;
  ++takeovers_;
  LogInfo("sequencer: leading", {{"entries", absl::StrCat(range_.size())},
                                 {"signed", absl::StrCat(last_checkpoint_size_)}});
  return absl::OkStatus();
}

absl::Status Sequencer::ReadLog() {
  events::KafkaProperties props = {
      {"bootstrap.servers", options_.brokers},
      {"group.id", options_.election_group + "-reader"},
      {"enable.auto.commit", "false"},
      {"enable.partition.eof", "true"},
      {"isolation.level", "read_committed"},
  };
  auto reader = events::NewClient(RD_KAFKA_CONSUMER, props, options_.extra);
  if (!reader.ok()) return reader.status();
  events::KafkaHandle rk = std::move(*reader);
  events::KafkaPartitionList parts(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(parts.get(), options_.log_topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_resp_err_t e = rd_kafka_assign(rk.get(), parts.get());
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return events::KafkaError(e, "assign log");
  const absl::Time deadline = absl::Now() + absl::Minutes(10);
  while (true) {
    if (stop_.load()) return absl::CancelledError("stopping");
    if (absl::Now() > deadline) return absl::DeadlineExceededError("reading the log took over 10 minutes");
    events::KafkaMessage m(rd_kafka_consumer_poll(rk.get(), 500));
    if (!m) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(absl::StrCat("reading the log: ", rd_kafka_message_errstr(m.get())));
    }
    av1::LogRecord rec;
    if (!rec.ParseFromArray(m->payload, static_cast<int>(m->len))) continue;  // the index reports it
    if (rec.has_bundle()) {
      const av1::LogBundle& b = rec.bundle();
      if (b.first_index() != range_.size()) continue;  // refused by the index too
      EntryV2Fields f;
      for (const av1::LogEntry& le : b.entries()) {
        range_.Append(tlog::LeafHash(le.entry()));
        if (SplitEntryV2(le.entry(), &f) == -1) Insert(f[0]);  // its ce_id, nothing more decoded
      }
      for (const av1::SourceOffset& o : b.offsets()) offsets_[{o.topic(), o.partition()}] = o.next_offset();
    } else if (rec.has_checkpoint()) {
      auto text = tlog::OpenNote(rec.checkpoint().note(), verifier_key_);
      if (!text.ok()) continue;  // not ours: the index reports it
      auto cp = tlog::ParseCheckpoint(*text);
      if (!cp.ok() || cp->origin != options_.origin) continue;
      // Never sign a tree that does not extend what was signed: the log must still hash to it.
      if (cp->size != range_.size() || cp->root != range_.Root()) {
        return absl::DataLossError(absl::StrCat("the log does not hash to its checkpoint of size ", cp->size,
                                                " (log offset ", m->offset, "): refusing to sign"));
      }
      last_checkpoint_size_ = cp->size;
    }
  }
  signed_size_ = last_checkpoint_size_;
  committed_ = range_;  // read_committed: all of it
  return absl::OkStatus();
}

absl::Status Sequencer::ProduceLog(const std::string& value) {
  while (true) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_TOPIC(options_.log_topic.c_str()), RD_KAFKA_V_PARTITION(0),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) return events::KafkaError(e, "produce to the log");
    rd_kafka_poll(producer_.get(), 50);
  }
}

void Sequencer::AddOffsets(av1::LogBundle* bundle) const {
  for (const auto& [tp, next] : offsets_) {
    av1::SourceOffset* o = bundle->add_offsets();
    o->set_topic(tp.first);
    o->set_partition(tp.second);
    o->set_next_offset(next);
  }
}

absl::Status Sequencer::ProduceCheckpoint() {
  auto note = signer_->Sign(tlog::CheckpointText({options_.origin, committed_.size(), committed_.Root(), {}}));
  if (!note.ok()) return note.status();
  av1::LogRecord c;
  c.mutable_checkpoint()->set_note(*note);
  PEP_RETURN_IF_ERROR(ProduceLog(c.SerializeAsString()));
  last_checkpoint_size_ = committed_.size();
  return absl::OkStatus();
}

absl::Status Sequencer::Transact(const std::vector<std::string>& records) {
  PEP_RETURN_IF_ERROR(TxnStatus(rd_kafka_begin_transaction(producer_.get()), "begin_transaction"));
  if (committed_.size() > last_checkpoint_size_) PEP_RETURN_IF_ERROR(ProduceCheckpoint());
  for (const std::string& r : records) PEP_RETURN_IF_ERROR(ProduceLog(r));
  if (!records.empty() && ++transactions_with_bundles_ == options_.abort_transaction) {
    rd_kafka_flush(producer_.get(), 10000);  // on the broker, as a failed commit leaves them
    PEP_RETURN_IF_ERROR(TxnStatus(rd_kafka_abort_transaction(producer_.get(), 10000), "abort_transaction"));
    return absl::AbortedError("transaction aborted (--test_abort_transaction)");
  }
  PEP_RETURN_IF_ERROR(TxnStatus(rd_kafka_commit_transaction(producer_.get(), 60000), "commit_transaction"));
  committed_ = range_;
  signed_size_ = last_checkpoint_size_;
  return absl::OkStatus();
}

absl::Status Sequencer::Migrate() {
  if (!std::filesystem::exists(options_.v1_ledger)) return absl::OkStatus();
  auto db = store::Db::Open(options_.v1_ledger);
  if (!db.ok()) return db.status();
  {
    auto t = (*db)->Prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'records'");
    if (!t.ok()) return t.status();
    auto row = t->Step();
    if (!row.ok()) return row.status();
    if (t->Int(0) == 0) return absl::OkStatus();
  }
  // The v1 ledger's global order is the log's first entries; its offsets are where the
  // sequencer goes on from (what v1 had read is in it already).
  auto off = (*db)->Prepare("SELECT topic, kafka_partition, next_offset FROM offsets");
  if (!off.ok()) return off.status();
  while (true) {
    auto row = off->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    offsets_[{off->Text(0), static_cast<int>(off->Int(1))}] = off->Int(2);
  }
  auto q = (*db)->Prepare(
      "SELECT ce_id, subject, subject_seq, ce_type, ce_source, aggregate_id, ce_time_us, actor, "
      "correlation_id, causation_id, aggregate_version, effective_us, topic, payload, hash, "
      "global_hash, kafka_partition, kafka_offset FROM records ORDER BY gpos");
  if (!q.ok()) return q.status();
  int64_t migrated = 0;
  int bundles = 0;
  bool more = true;
  while (more) {
    av1::LogRecord rec;
    av1::LogBundle* b = rec.mutable_bundle();
    b->set_first_index(range_.size());
    size_t bytes = 0;
    while (b->entries_size() < options_.bundle_entries && bytes < options_.bundle_bytes) {
      auto row = q->Step();
      if (!row.ok()) return row.status();
      if (!*row) {
        more = false;
        break;
      }
      LedgerRecord r;
      events::Envelope& e = r.envelope;
      e.id = q->Text(0);
      e.type = q->Text(3);
      e.source = q->Text(4);
      e.subject = q->Text(5);
      e.time = absl::FromUnixMicros(q->Int(6));
      e.actor = q->Text(7);
      e.correlation_id = q->Text(8);
      e.causation_id = q->Text(9);
      e.aggregate_version = q->Int(10);
      e.effective_time = absl::FromUnixMicros(q->Int(11));
      r.topic = q->Text(12);
      r.payload = q->Text(13);
      if (Seen(e.id)) continue;
      av1::LogEntry* le = b->add_entries();
      le->set_entry(EntryV2Bytes(r));
      le->set_payload(r.payload);
      le->set_source_partition(static_cast<int>(q->Int(16)));
      le->set_source_offset(q->Int(17));
      le->set_v1_subject(q->Text(1));
      le->set_v1_subject_seq(q->Int(2));
      le->set_v1_hash(q->Text(14));
      le->set_v1_global_hash(q->Text(15));
      bytes += le->entry().size() + le->payload().size();
      range_.Append(tlog::LeafHash(le->entry()));
      Insert(e.id);
      ++migrated;
    }
    if (!more) AddOffsets(b);
    if (b->entries_size() == 0 && (more || b->offsets_size() == 0)) continue;
    // The last bundle goes even when empty: it carries the offsets that mark the end.
    PEP_RETURN_IF_ERROR(Transact({rec.SerializeAsString()}));
    if (++bundles == options_.interrupt_migration_after && !migration_interrupted_) {
      migration_interrupted_ = true;
      return absl::UnavailableError("migration interrupted (--test_interrupt_migration_after)");
    }
  }
  if (committed_.size() > last_checkpoint_size_) PEP_RETURN_IF_ERROR(Transact({}));
  LogInfo("sequencer: version 1 ledger migrated", {{"entries", absl::StrCat(migrated)},
                                                   {"from", options_.v1_ledger}});
  appended_ += migrated;
  return absl::OkStatus();
}

absl::Status Sequencer::AssignSources() {
  events::KafkaProperties props = {
      {"bootstrap.servers", options_.brokers},
      {"group.id", options_.election_group + "-sources"},  // offsets live in the log, not here
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"isolation.level", "read_committed"},
      {"auto.offset.reset", "earliest"},
      {"fetch.wait.max.ms", "50"},
      {"queued.min.messages", "200000"},
  };
  auto source = events::NewClient(RD_KAFKA_CONSUMER, props, options_.extra);
  if (!source.ok()) return source.status();
  source_ = std::move(*source);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(source_.get(), 1, nullptr, &md, 10000);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return events::KafkaError(e, "metadata");
  events::KafkaPartitionList parts(rd_kafka_topic_partition_list_new(32));
  for (const std::string& t : options_.topics) {
    for (int i = 0; i < md->topic_cnt; ++i) {
      if (t != md->topics[i].topic || md->topics[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      for (int p = 0; p < md->topics[i].partition_cnt; ++p) {
        const int id = md->topics[i].partitions[p].id;
        auto it = offsets_.find({t, id});
        rd_kafka_topic_partition_list_add(parts.get(), t.c_str(), id)->offset =
            it == offsets_.end() ? RD_KAFKA_OFFSET_BEGINNING : it->second;
      }
    }
  }
  rd_kafka_metadata_destroy(md);
  if (parts->cnt == 0) return absl::FailedPreconditionError("none of the source topics exists yet");
  e = rd_kafka_assign(source_.get(), parts.get());
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return events::KafkaError(e, "assign sources");
  return absl::OkStatus();
}

absl::StatusOr<bool> Sequencer::Round(absl::Duration wait) {
  std::vector<av1::LogRecord> bundles(1);
  size_t bytes = 0;
  int taken = 0;
  // seen_ learns this round's ids as they come: if the transaction fails, the sequencer steps
  // down and rebuilds all of its state from the log.
  int wait_ms = static_cast<int>(absl::ToInt64Milliseconds(wait));
  while (taken < options_.max_round_records) {
    events::KafkaMessage m(rd_kafka_consumer_poll(source_.get(), wait_ms));
    if (!m) break;
    wait_ms = 0;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      LogWarn("sequencer: source error", {{"error", rd_kafka_message_errstr(m.get())}});
      continue;
    }
    ++taken;
    const char* topic = rd_kafka_topic_name(m->rkt);
    av1::LogBundle* b = bundles.back().mutable_bundle();
    auto envelope = events::EnvelopeOf(m.get());
    if (!envelope.ok()) {
      b->add_undecodable(absl::StrCat(topic, "/", m->partition, "@", m->offset, ": ", envelope.status().message()));
      offsets_[{topic, m->partition}] = m->offset + 1;
      continue;
    }
    if (!Insert(envelope->id)) {  // a redelivery: integrated once already
      offsets_[{topic, m->partition}] = m->offset + 1;
      continue;
    }
    std::string_view payload(static_cast<const char*>(m->payload), m->payload ? m->len : 0);
    std::string entry = EntryV2Bytes(*envelope, topic, payload);
    const size_t size = entry.size() + payload.size();
    if (b->entries_size() > 0 && (b->entries_size() >= options_.bundle_entries || bytes + size > options_.bundle_bytes)) {
      AddOffsets(b);  // before this record's offset moves
      bundles.emplace_back();
      b = bundles.back().mutable_bundle();
      bytes = 0;
    }
    av1::LogEntry* le = b->add_entries();
    le->set_entry(std::move(entry));
    le->set_payload(payload.data(), payload.size());
    le->set_source_partition(m->partition);
    le->set_source_offset(m->offset);
    bytes += size;
    offsets_[{topic, m->partition}] = m->offset + 1;
  }
  if (taken == 0) {
    // Idle: what the last round committed is signed now, in a transaction of its own.
    if (committed_.size() == last_checkpoint_size_) return false;
    PEP_RETURN_IF_ERROR(Transact({}));
    return true;
  }
  AddOffsets(bundles.back().mutable_bundle());
  int64_t added = 0;
  std::vector<std::string> records;
  for (av1::LogRecord& rec : bundles) {
    av1::LogBundle* b = rec.mutable_bundle();
    b->set_first_index(range_.size());
    for (const av1::LogEntry& le : b->entries()) range_.Append(tlog::LeafHash(le.entry()));
    added += b->entries_size();
    records.push_back(rec.SerializeAsString());
  }
  PEP_RETURN_IF_ERROR(Transact(records));
  appended_ += added;
  return true;
}

}  // namespace pep::audit
