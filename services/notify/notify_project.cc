// pep-notify's projections: what it remembers of challenges, ideas, scores and start-ups (their
// lifecycle, team members and committee decisions), from the events it reads — the facts its
// rules need to know who is concerned.
#include "absl/strings/str_cat.h"
#include "common/proto_time.h"
#include "common/status.h"
#include "pepiniere/feedback/v1/events.pb.h"
#include "pepiniere/ideas/v1/events.pb.h"
#include "pepiniere/incubation/v1/events.pb.h"
#include "services/notify/notify_service.h"

namespace pep::notify {

namespace {
namespace iv1 = ::pepiniere::ideas::v1;
namespace incv1 = ::pepiniere::incubation::v1;
namespace fv1 = ::pepiniere::feedback::v1;

// Their mission ends when they left (end) or, while on the team, when it is planned to.
MemberInfo Member(const incv1::TeamMember& m) {
  return {m.id(), m.name(),
          m.has_end()           ? FromTimestamp(m.end())
          : m.has_mission_end() ? FromTimestamp(m.mission_end())
                                : absl::InfiniteFuture()};
}

// Phases, milestones, committee decisions, team members and feedback: the clock rules' facts.
absl::Status ProjectLifecycle(NotifyTx& tx, const events::Envelope& env, const std::string& payload) {
  const std::string& t = env.type;
  if (t == "pepiniere.incubation.v1.PhaseChanged") {
    incv1::PhaseChanged ev;
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError("PhaseChanged: undecodable");
    PEP_RETURN_IF_ERROR(tx.SetPhase(ev.startup_id(), ev.to(), FromTimestamp(ev.effective_date()),
                                    absl::InfinitePast()));
    if (!ev.decision_id().empty()) PEP_RETURN_IF_ERROR(tx.UseDecision(ev.decision_id()));
    return absl::OkStatus();
  }
  if (t == "pepiniere.incubation.v1.PhaseHistoryCorrected") {
    incv1::PhaseHistoryCorrected ev;
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError(t + ": undecodable");
    if (ev.phases_size() == 0) return absl::OkStatus();
    const auto& last = ev.phases(ev.phases_size() - 1);
    return tx.SetPhase(ev.startup_id(), last.phase(), FromTimestamp(last.start()),
                       FromTimestamp(ev.phases(0).start()));
  }
  if (t == "pepiniere.incubation.v1.MilestonePushed") {
    incv1::MilestonePushed ev;
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError(t + ": undecodable");
    return tx.SetLastMilestone(ev.milestone().startup_id(), FromTimestamp(ev.milestone().date()));
  }
  if (t == "pepiniere.incubation.v1.CommitteeDecisionRecorded") {
    incv1::CommitteeDecisionRecorded ev;
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError(t + ": undecodable");
    const auto& d = ev.decision();
    PEP_RETURN_IF_ERROR(tx.PutDecision(d.id(), d.startup_id(), d.outcome(), FromTimestamp(d.date())));
    if (d.used()) PEP_RETURN_IF_ERROR(tx.UseDecision(d.id()));
    // An envelope granted opens the budget's period, as in pep-incubation (issue 31).
    if (d.envelope_eur() > 0) {
      PEP_RETURN_IF_ERROR(tx.SetEnvelope(d.startup_id(), d.envelope_eur(), FromTimestamp(d.date())));
    }
    return tx.SetLastCommittee(d.startup_id(), FromTimestamp(d.date()),
                               d.has_next_review() ? FromTimestamp(d.next_review()) : absl::InfiniteFuture());
  }
  if (t == "pepiniere.incubation.v1.TeamMemberAdded") {
    incv1::TeamMemberAdded ev;
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError(t + ": undecodable");
    return tx.PutMember(ev.startup_id(), Member(ev.member()));
  }
  if (t == "pepiniere.incubation.v1.BudgetEntryRecorded") {
    incv1::BudgetEntryRecorded ev;
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError(t + ": undecodable");
    return tx.PutBudgetEntry(ev.entry());
  }
  if (t == "pepiniere.incubation.v1.TeamMemberUpdated") {  // a mission's end moved (issue 31)
    incv1::TeamMemberUpdated ev;
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError(t + ": undecodable");
    return tx.PutMember(ev.startup_id(), Member(ev.member()));
  }
  if (t == "pepiniere.incubation.v1.TeamMemberRemoved") {
    incv1::TeamMemberRemoved ev;
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError(t + ": undecodable");
    return tx.EndMember(ev.startup_id(), ev.member_id(),
                        ev.has_end() ? FromTimestamp(ev.end()) : env.effective_time);
  }
  if (t == "pepiniere.feedback.v1.FeedbackReceived") {
    fv1::FeedbackReceived ev;
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError(t + ": undecodable");
    return tx.SetHasFeedback(ev.feedback().startup_id());
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status NotifyService::Project(NotifyTx& tx, const events::Envelope& env,
                                    const std::string& payload) {
  const std::string& t = env.type;
  auto challenge = [&](const std::string& id, auto&& change) -> absl::Status {
    auto c = tx.Challenge(id);
    if (!c) return absl::OkStatus();  // created before pep-notify's time: nothing to update
    change(*c);
    return tx.PutChallenge(*c);
  };
  if (t == "pepiniere.ideas.v1.ChallengeCreated") {
    iv1::ChallengeCreated ev;
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError("ChallengeCreated: undecodable");
    const auto& c = ev.challenge();
    ChallengeInfo info{c.id(), c.title()};
    if (c.has_closes_at()) info.closes_at = FromTimestamp(c.closes_at());
    info.open = c.status() == iv1::CHALLENGE_STATUS_OPEN;
    info.juror_ids.assign(c.juror_ids().begin(), c.juror_ids().end());
    return tx.PutChallenge(info);
  }
  if (t == "pepiniere.ideas.v1.ChallengeOpened" || t == "pepiniere.ideas.v1.ChallengeClosed") {
    iv1::ChallengeOpened ev;  // both carry challenge_id = 1
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError(t + ": undecodable");
    const bool open = t == "pepiniere.ideas.v1.ChallengeOpened";
    return challenge(ev.challenge_id(), [&](ChallengeInfo& c) { c.open = open; });
  }
  if (t == "pepiniere.ideas.v1.JurorsAssigned" || t == "pepiniere.ideas.v1.JurorsRemoved") {
    iv1::JurorsAssigned ev;  // the same field numbers: challenge_id, changed, the whole jury
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError(t + ": undecodable");
    return challenge(ev.challenge_id(), [&](ChallengeInfo& c) {
      c.juror_ids.assign(ev.juror_ids().begin(), ev.juror_ids().end());
    });
  }
  if (t == "pepiniere.ideas.v1.IdeaSubmitted") {
    iv1::IdeaSubmitted ev;
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError("IdeaSubmitted: undecodable");
    const auto& i = ev.idea();
    return tx.PutIdea({i.id(), i.challenge_id(), i.author_id(), i.title()});
  }
  if (t == "pepiniere.ideas.v1.IdeaEdited") {
    iv1::IdeaEdited ev;
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError("IdeaEdited: undecodable");
    auto idea = tx.Idea(ev.idea_id());
    if (!idea) return absl::OkStatus();
    for (const auto& c : ev.changes()) {
      if (c.field() == "title") idea->title = c.new_value();
    }
    return tx.PutIdea(*idea);
  }
  if (t == "pepiniere.ideas.v1.IdeaWithdrawn") {
    iv1::IdeaWithdrawn ev;
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError("IdeaWithdrawn: undecodable");
    return tx.SetIdeaWithdrawn(ev.idea_id());
  }
  if (t == "pepiniere.ideas.v1.IdeaScored") {
    iv1::IdeaScored ev;
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError("IdeaScored: undecodable");
    return tx.PutScore(ev.scorecard().idea_id(), ev.scorecard().juror_id());
  }
  if (t == "pepiniere.ideas.v1.ScorecardCommitted") {  // a sealed card: scored all the same
    iv1::ScorecardCommitted ev;
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError("ScorecardCommitted: undecodable");
    return tx.PutScore(ev.idea_id(), ev.juror_id());
  }
  if (t == "pepiniere.ideas.v1.CoauthorJoined") {
    iv1::CoauthorJoined ev;
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError("CoauthorJoined: undecodable");
    return tx.PutCoauthor(ev.idea_id(), ev.account_id());
  }
  if (t == "pepiniere.ideas.v1.IdeaClaimed") {  // filed by a relais, its author's now
    iv1::IdeaClaimed ev;
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError(t + ": undecodable");
    auto idea = tx.Idea(ev.idea_id());
    if (!idea) return absl::OkStatus();
    idea->author_id = ev.account_id();
    return tx.PutIdea(*idea);
  }
  if (t == "pepiniere.ideas.v1.IdeaMerged" || t == "pepiniere.ideas.v1.MergeUndone") {
    iv1::IdeaMerged ev;  // MergeUndone: idea_id, from_idea_id, coauthor_ids — the same numbers
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError(t + ": undecodable");
    for (const auto& who : ev.coauthor_ids()) {
      PEP_RETURN_IF_ERROR(t == "pepiniere.ideas.v1.IdeaMerged" ? tx.PutCoauthor(ev.into_idea_id(), who)
                                                               : tx.DeleteCoauthor(ev.into_idea_id(), who));
    }
    return absl::OkStatus();
  }
  if (t == "pepiniere.ideas.v1.ConflictDeclared") {  // nothing left for that juror to score there
    iv1::ConflictDeclared ev;
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError("ConflictDeclared: undecodable");
    return tx.PutScore(ev.idea_id(), ev.juror_id());
  }
  if (t == "pepiniere.incubation.v1.StartupCreated") {
    incv1::StartupCreated ev;
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError("StartupCreated: undecodable");
    const auto& s = ev.startup();
    PEP_RETURN_IF_ERROR(tx.PutStartup(
        {s.id(), s.name(), env.correlation_id != s.id() ? env.correlation_id : std::string()}));
    if (s.phases_size() > 0) {
      PEP_RETURN_IF_ERROR(tx.SetPhase(s.id(), s.phase(), FromTimestamp(s.phases(s.phases_size() - 1).start()),
                                      FromTimestamp(s.phases(0).start())));
    }
    if (s.has_last_milestone_at()) {
      PEP_RETURN_IF_ERROR(tx.SetLastMilestone(s.id(), FromTimestamp(s.last_milestone_at())));
    }
    for (const auto& m : s.team()) PEP_RETURN_IF_ERROR(tx.PutMember(s.id(), Member(m)));
    return absl::OkStatus();
  }
  if (t == "pepiniere.incubation.v1.StartupUpdated") {
    incv1::StartupUpdated ev;
    if (!ev.ParseFromString(payload)) return absl::InvalidArgumentError("StartupUpdated: undecodable");
    for (const auto& c : ev.changes()) {
      if (c.field() == "name") PEP_RETURN_IF_ERROR(tx.PutStartup({ev.startup_id(), c.new_value(), ""}));
    }
    return absl::OkStatus();
  }
  return ProjectLifecycle(tx, env, payload);
}

}  // namespace pep::notify
