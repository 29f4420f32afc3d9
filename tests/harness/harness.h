// Hermetic test helpers: free ports, temp dirs, child processes we own by pid, HTTP GET,
// wait-for-condition, and a real single-node Kafka broker started through deploy/local/lib.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace pep::testing {

std::string SourceDir();
std::string BinaryDir();
int FreePort();

// Waits until pred() is true, polling every `poll`; returns false on timeout.
bool WaitFor(const std::function<bool()>& pred, absl::Duration timeout,
             absl::Duration poll = absl::Milliseconds(50));

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A child process we started; stopped only by its own pid.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void Start(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
             const std::string& log_file);
  bool Running();
  void Kill9();
  // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status (or -signal).
  int Terminate(absl::Duration grace = absl::Seconds(20));
  pid_t pid() const { return pid_; }

 private:
  int Reap(bool block);
  pid_t pid_ = -1;
};

// Runs a shell command, returns its exit code; output goes to the test log.
int RunCommand(const std::string& cmd);

// The last max_bytes of a file ("" when it cannot be read): a child's log in a failure message,
// since the test's temp dir is gone by the time anyone reads CI's output.
std::string FileTail(const std::string& path, size_t max_bytes = 6000);

// True when something accepts TCP connections on 127.0.0.1:port.
bool PortAccepts(int port);

// Plain HTTP/1.0 GET on 127.0.0.1; returns the body, or "" on failure.
std::string HttpGet(int port, const std::string& path);

// A real Apache Kafka broker (KRaft) on free ports in a temp dir, via deploy/local/lib/kafka.sh.
// A broker that takes clients over TLS only, each a user, and enforces ACLs: "mtls" (a client
// certificate per user, CN=<user>) or "scram" (SASL_SSL SCRAM-SHA-512; password "<user>-secret").
struct SecureKafka {
  std::string mode = "mtls";
  std::string admin = "admin";     // the super user
  std::vector<std::string> users;  // the clients'
};

class KafkaBroker {
 public:
  KafkaBroker();
  explicit KafkaBroker(SecureKafka secure);
  ~KafkaBroker();
  void Stop();
  void Start();
  std::string bootstrap() const;
  int port() const { return port_; }
  // Secure brokers: the CA file clients trust, and Kafka's AclCommand run as the admin.
  std::string ca_file() const { return dir_.path() + "/tls/ca.pem"; }
  // mtls: a user's certificate and key.
  std::string cert_file(const std::string& user) const { return dir_.path() + "/tls/clients/" + user + ".crt"; }
  std::string key_file(const std::string& user) const { return dir_.path() + "/tls/clients/" + user + ".key"; }
  int Acl(const std::string& args) const;
  static std::string PasswordOf(const std::string& user) { return user + "-secret"; }

  // One broker per test binary, started on first use, stopped at exit.
  static KafkaBroker& Shared();

 private:
  TempDir dir_;
  int port_;
  int controller_port_;
  std::optional<SecureKafka> secure_;
  bool running_ = false;
};

// A KRaft cluster of real brokers on 127.0.0.1 (each node broker and controller, a static
// quorum of all of them), internal topics replicated to every node with min.insync.replicas one
// less: the topology the chart's Strimzi resources declare. Nodes are numbered 1..n and are
// killed, stopped, frozen and restarted by the pid in their own directory.
class KafkaCluster {
 public:
  // `isolated`: each node in a network namespace of its own, on a bridge this cluster makes
  // (10.203.X.0/24; the host is .1, node N is .10+N), so that Partition can cut brokers apart
  // while clients on the host still reach every one. Needs CAP_NET_ADMIN (root); the
  // namespaces and the bridge are removed with the cluster.
  explicit KafkaCluster(int nodes = 3, bool isolated = false);
  ~KafkaCluster();  // kill -9 every node: the data is a temporary directory
  std::string bootstrap() const;  // every node
  int size() const { return static_cast<int>(nodes_.size()); }
  int port(int node) const { return nodes_.at(node - 1).port; }

  void Kill9(int node);   // returns once the process is gone
  void Stop(int node);    // SIGTERM: a controlled shutdown (leaderships handed over)
  void Start(int node);   // (re)starts a node that is not running; returns once it listens
  void Freeze(int node);  // SIGSTOP: alive but silent, as behind a network cut
  void Thaw(int node);    // SIGCONT
  // Isolated clusters: `node` can no longer reach the other nodes, nor they it (blackhole
  // routes in their namespaces); clients on the host still reach it. Heal undoes it.
  void Partition(int node);
  void Heal(int node);
  bool Running(int node) const;
  // The node the metadata quorum follows as its leader (the active controller): the newest
  // epoch in the running nodes' quorum-state files; 0 when none is known.
  int ActiveController() const;

 private:
  struct Node {
    int id, port, controller_port;
    std::string dir;
    std::string host = "127.0.0.1";
    std::string netns;  // empty: the host's network
  };
  pid_t Pid(int node) const;
  std::string StartCommand(const Node& n) const;
  void SetUpNetwork();
  void Blackhole(int from, int to, bool add);
  TempDir dir_;
  std::vector<Node> nodes_;
  std::string bridge_;  // empty when not isolated
};

}  // namespace pep::testing
