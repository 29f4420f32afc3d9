#include "harness/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace pep::testing {

namespace {
int KernelChosenPort();
}  // namespace

std::string SourceDir() {
  const char* s = std::getenv("PEP_SOURCE_DIR");
  return s ? s : PEP_DEFAULT_SOURCE_DIR;
}
std::string BinaryDir() {
  const char* s = std::getenv("PEP_BINARY_DIR");
  return s ? s : PEP_DEFAULT_BINARY_DIR;
}

int FreePort() {
  // Bind port 0 to let the kernel choose, then release it; never hand out the same port twice
  // in one test process (a broker's two listeners, a service's gRPC and metrics ports).
  static absl::Mutex mu;
  static std::set<int>* given = new std::set<int>();
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int port = KernelChosenPort();
    absl::MutexLock l(&mu);
    if (port > 0 && given->insert(port).second) return port;
  }
  ADD_FAILURE() << "no free port";
  return 0;
}

namespace {
int KernelChosenPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return 0;
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}
}  // namespace

bool WaitFor(const std::function<bool()>& pred, absl::Duration timeout, absl::Duration poll) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (pred()) return true;
    if (absl::Now() > deadline) return false;
    absl::SleepFor(poll);
  }
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "pep-test-XXXXXX").string();
  char* p = mkdtemp(tmpl.data());
  if (p == nullptr) std::abort();
  path_ = p;
}
TempDir::~TempDir() {
  if (std::getenv("PEP_KEEP_TEST_DIRS") != nullptr) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) Terminate(absl::Seconds(10));
}

void ChildProcess::Start(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env,
                         const std::string& log_file) {
  ASSERT_LT(pid_, 0) << "already started";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: dies with the test process, so a crashed test leaves no server behind.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The shutdown signals may be blocked in the test process; unblock them.
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, nullptr);
    int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  pid_ = pid;
}

int ChildProcess::Reap(bool block) {
  int status = 0;
  pid_t r = waitpid(pid_, &status, block ? 0 : WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  return INT32_MIN;
}

bool ChildProcess::Running() {
  if (pid_ <= 0) return false;
  return Reap(false) == INT32_MIN;
}

void ChildProcess::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  Reap(true);
}

int ChildProcess::Terminate(absl::Duration grace) {
  if (pid_ <= 0) return 0;
  kill(pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + grace;
  while (absl::Now() < deadline) {
    int r = Reap(false);
    if (r != INT32_MIN) return r;
    absl::SleepFor(absl::Milliseconds(20));
  }
  kill(pid_, SIGKILL);
  return Reap(true);
}

int RunCommand(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::string FileTail(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return "";
  const std::streamoff size = in.tellg();
  const std::streamoff from = size > static_cast<std::streamoff>(max_bytes) ? size - max_bytes : 0;
  in.seekg(from);
  std::string tail(static_cast<size_t>(size - from), '\0');
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  return tail;
}

bool PortAccepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  const std::string req = absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return "";
  }
  std::string resp;
  char buf[16384];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) resp.append(buf, static_cast<size_t>(n));
  close(fd);
  const size_t body = resp.find("\r\n\r\n");
  return body == std::string::npos ? "" : resp.substr(body + 4);
}

KafkaBroker::KafkaBroker() : port_(FreePort()), controller_port_(FreePort()) { Start(); }

KafkaBroker::KafkaBroker(SecureKafka secure)
    : port_(FreePort()), controller_port_(FreePort()), secure_(std::move(secure)) {
  Start();
}

int KafkaBroker::Acl(const std::string& args) const {
  return RunCommand(absl::StrCat("bash ", SourceDir(), "/deploy/local/lib/kafka.sh acl --dir ", dir_.path(),
                                 " --port ", port_, " -- ", args));
}

KafkaBroker::~KafkaBroker() { Stop(); }

std::string KafkaBroker::bootstrap() const { return absl::StrCat("127.0.0.1:", port_); }

void KafkaBroker::Start() {
  const std::string cmd =
      absl::StrCat("bash ", SourceDir(), "/deploy/local/lib/kafka.sh start --dir ", dir_.path(),
                   " --port ", port_, " --controller-port ", controller_port_,
                   " --owner-pid ", getpid());
  std::string secure;
  if (secure_) {
    secure = absl::StrCat(" --secure ", secure_->mode, " --admin ", secure_->admin, ":", PasswordOf(secure_->admin));
    for (const std::string& u : secure_->users) absl::StrAppend(&secure, " --user ", u, ":", PasswordOf(u));
  }
  ASSERT_EQ(RunCommand(cmd + secure), 0) << cmd << secure;
  running_ = true;
}

void KafkaBroker::Stop() {
  if (!running_) return;
  RunCommand(absl::StrCat("bash ", SourceDir(), "/deploy/local/lib/kafka.sh stop --dir ",
                          dir_.path()));
  running_ = false;
}

KafkaBroker& KafkaBroker::Shared() {
  static KafkaBroker* broker = [] {
    auto* b = new KafkaBroker();
    std::atexit([] { delete &Shared(); });
    return b;
  }();
  return *broker;
}

namespace {

// A process is gone when it no longer exists or is a zombie waiting for its reaper (brokers are
// started by kafka.sh with nohup, so they are not our children).
bool ProcessGone(pid_t pid) {
  if (pid <= 0 || kill(pid, 0) != 0) return true;
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  std::getline(stat, line);
  const size_t close = line.rfind(')');
  return close == std::string::npos || (close + 2 < line.size() && line[close + 2] == 'Z');
}

}  // namespace

KafkaCluster::KafkaCluster(int n, bool isolated) {
  for (int id = 1; id <= n; ++id) {
    nodes_.push_back({id, FreePort(), FreePort(), absl::StrCat(dir_.path(), "/node", id)});
  }
  if (isolated) SetUpNetwork();
  // Every node at once: a node opens its port only once the quorum has a leader.
  std::vector<std::thread> starts;
  std::vector<int> rcs(n, -1);
  for (int i = 0; i < n; ++i) {
    starts.emplace_back([this, i, &rcs] { rcs[i] = RunCommand(StartCommand(nodes_[i])); });
  }
  for (auto& t : starts) t.join();
  for (int i = 0; i < n; ++i) EXPECT_EQ(rcs[i], 0) << "node " << i + 1 << ": see " << nodes_[i].dir;
}

KafkaCluster::~KafkaCluster() {
  for (const Node& n : nodes_) {
    Thaw(n.id);
    if (Running(n.id)) Kill9(n.id);
    if (!n.netns.empty()) RunCommand("ip netns del " + n.netns);  // its veth goes with it
  }
  if (!bridge_.empty()) RunCommand("ip link del " + bridge_);
}

void KafkaCluster::SetUpNetwork() {
  // Names and the subnet carry this process's pid: tests of other runs may do the same.
  const int tag = static_cast<int>(getpid() % 100000);
  const std::string subnet = absl::StrCat("10.203.", getpid() % 250 + 1, ".");
  bridge_ = absl::StrCat("pepbr", tag);
  auto ip = [](const std::string& args) {
    const int rc = RunCommand("ip " + args);
    EXPECT_EQ(rc, 0) << "ip " << args << " (network namespaces need root)";
    return rc == 0;
  };
  if (!ip(absl::StrCat("link add ", bridge_, " type bridge")) ||
      !ip(absl::StrCat("addr add ", subnet, "1/24 dev ", bridge_)) ||
      !ip(absl::StrCat("link set ", bridge_, " up"))) {
    return;
  }
  for (Node& n : nodes_) {
    n.netns = absl::StrCat("pep", tag, "k", n.id);
    n.host = absl::StrCat(subnet, 10 + n.id);
    const std::string host_end = absl::StrCat("pv", tag, "k", n.id);
    const std::string ns_end = absl::StrCat("pe", tag, "k", n.id);
    const std::string in_ns = absl::StrCat("netns exec ", n.netns, " ip ");
    ip("netns add " + n.netns);
    ip(absl::StrCat("link add ", host_end, " type veth peer name ", ns_end));
    ip(absl::StrCat("link set ", ns_end, " netns ", n.netns));
    ip(absl::StrCat("link set ", host_end, " master ", bridge_));
    ip(absl::StrCat("link set ", host_end, " up"));
    ip(absl::StrCat(in_ns, "addr add ", n.host, "/24 dev ", ns_end));
    ip(absl::StrCat(in_ns, "link set ", ns_end, " up"));
    ip(in_ns + "link set lo up");
  }
}

void KafkaCluster::Blackhole(int from, int to, bool add) {
  const Node& a = nodes_.at(from - 1);
  const Node& b = nodes_.at(to - 1);
  ASSERT_FALSE(a.netns.empty()) << "Partition needs an isolated cluster";
  const std::string cmd = absl::StrCat("ip netns exec ", a.netns, " ip route ",
                                       add ? "add" : "del", " blackhole ", b.host, "/32");
  EXPECT_EQ(RunCommand(cmd), 0) << cmd;
}

void KafkaCluster::Partition(int node) {
  for (const Node& other : nodes_) {
    if (other.id == node) continue;
    Blackhole(node, other.id, true);
    Blackhole(other.id, node, true);
  }
}

void KafkaCluster::Heal(int node) {
  for (const Node& other : nodes_) {
    if (other.id == node) continue;
    Blackhole(node, other.id, false);
    Blackhole(other.id, node, false);
  }
}

std::string KafkaCluster::StartCommand(const Node& n) const {
  std::string voters;
  for (const Node& v : nodes_) {
    absl::StrAppend(&voters, voters.empty() ? "" : ",", v.id, "@", v.host, ":", v.controller_port);
  }
  return absl::StrCat(n.netns.empty() ? "" : "ip netns exec " + n.netns + " ",
                      "bash ", SourceDir(), "/deploy/local/lib/kafka.sh start --dir ", n.dir,
                      " --host ", n.host, " --port ", n.port,
                      " --controller-port ", n.controller_port,
                      " --node-id ", n.id, " --voters ", voters,
                      " --cluster-id pepiniere-fault-clstr1 --replication ", nodes_.size(),
                      " --owner-pid ", getpid());
}

std::string KafkaCluster::bootstrap() const {
  std::string out;
  for (const Node& n : nodes_) absl::StrAppend(&out, out.empty() ? "" : ",", n.host, ":", n.port);
  return out;
}

pid_t KafkaCluster::Pid(int node) const {
  std::ifstream f(nodes_.at(node - 1).dir + "/kafka.pid");
  pid_t pid = -1;
  f >> pid;
  return pid;
}

bool KafkaCluster::Running(int node) const { return !ProcessGone(Pid(node)); }

void KafkaCluster::Kill9(int node) {
  const pid_t pid = Pid(node);
  if (ProcessGone(pid)) return;
  kill(pid, SIGKILL);
  EXPECT_TRUE(WaitFor([&] { return ProcessGone(pid); }, absl::Seconds(30))) << "node " << node;
}

void KafkaCluster::Stop(int node) {
  const pid_t pid = Pid(node);
  if (ProcessGone(pid)) return;
  kill(pid, SIGTERM);
  if (!WaitFor([&] { return ProcessGone(pid); }, absl::Seconds(60))) Kill9(node);
}

void KafkaCluster::Start(int node) {
  ASSERT_FALSE(Running(node)) << "node " << node << " is running";
  const std::string cmd = StartCommand(nodes_.at(node - 1));
  ASSERT_EQ(RunCommand(cmd), 0) << cmd;
}

void KafkaCluster::Freeze(int node) {
  if (Running(node)) kill(Pid(node), SIGSTOP);
}

void KafkaCluster::Thaw(int node) {
  if (Running(node)) kill(Pid(node), SIGCONT);
}

int KafkaCluster::ActiveController() const {
  int leader = 0;
  int64_t best_epoch = -1;
  for (const Node& n : nodes_) {
    if (!Running(n.id)) continue;
    std::ifstream f(n.dir + "/data/__cluster_metadata-0/quorum-state");
    std::string json((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    auto number = [&json](const std::string& key) -> int64_t {
      const size_t at = json.find("\"" + key + "\":");
      return at == std::string::npos ? -1 : std::atoll(json.c_str() + at + key.size() + 3);
    };
    const int64_t epoch = number("leaderEpoch"), id = number("leaderId");
    if (id > 0 && epoch > best_epoch) {
      best_epoch = epoch;
      leader = static_cast<int>(id);
    }
  }
  return leader;
}

}  // namespace pep::testing
