// What an e-mail of pep-notify is made of, without sending it: the multipart French message
// (plain text + HTML in the State design system's colours, readable without images), its
// headers (a stable Message-ID, List-Unsubscribe with one-click POST, RFC 8058), the signed and
// expiring unsubscribe token, the retry schedule and the digest periods. Pure.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pep::notify {

struct MailItem {  // one notification as an e-mail shows it
  std::string title, body, link;  // link: absolute URL
};

struct Mail {
  std::string message_id;     // "<id@domain>", the same on every attempt
  std::string from_address;   // "ne-pas-repondre@…"
  std::string from_name;      // "Pépinière"
  std::string to_address, to_name;
  std::string subject;
  std::string intro;          // "Bonjour Camille," is written from to_name; this follows it
  std::vector<MailItem> items;
  std::string unsubscribe_url;    // one-click (POST) and page (GET); empty: none
  std::string unsubscribe_label;  // « Mes idées »
  std::string settings_url;       // the console's « Mes notifications »
  absl::Time date;
};

// The whole message, CRLF line ends, ready for SMTP DATA (headers, then a multipart/alternative
// body: text/plain and text/html, both UTF-8, base64); the boundary derives from the Message-ID.
std::string RenderMime(const Mail& m);
// RFC 2047 encoded-word for a header value that is not plain ASCII.
std::string EncodeHeaderWord(const std::string& text);

// Unsubscribe tokens: account, category and expiry, signed with HMAC-SHA256 under `key`;
// base64url, no padding. Verify checks the signature in constant time, then the expiry.
std::string SignUnsubscribe(const std::string& key, const std::string& account_id,
                            const std::string& category, absl::Time expires);
struct Unsubscription {
  std::string account_id, category;
};
// INVALID_ARGUMENT for a token that is not ours or was altered; FAILED_PRECONDITION when expired.
absl::StatusOr<Unsubscription> VerifyUnsubscribe(const std::string& key, const std::string& token,
                                                 absl::Time now);

// Wait before attempt `attempt` (1 = the first retry): 5 s doubling up to `max`, and on.
absl::Duration RetryDelay(int attempt, absl::Duration max = absl::Minutes(10));

// Europe/Paris (UTC if the zone database lacks it), loaded once: digests, dates in messages.
const absl::TimeZone& ParisTime();

// The digest period a moment belongs to (Europe/Paris): "2026-12-07" daily, "2026-W50" weekly.
std::string DailyPeriod(absl::Time t);
std::string WeeklyPeriod(absl::Time t);

}  // namespace pep::notify
