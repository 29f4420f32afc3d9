// Rendering, tokens and schedules of pep-notify's e-mails.
#include "services/notify/notify_mail.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_replace.h"
#include "common/text.h"

namespace pep::notify {

namespace {

bool IsAscii(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x80 && c != '\r' && c != '\n';
  });
}

// base64 in lines of 76 characters, CRLF-ended (RFC 2045).
std::string Base64Lines(const std::string& bytes) {
  const std::string b64 = absl::Base64Escape(bytes);
  std::string out;
  for (size_t i = 0; i < b64.size(); i += 76) absl::StrAppend(&out, b64.substr(i, 76), "\r\n");
  return out;
}

// A mailbox for From/To: the name as an encoded word when it is not plain ASCII.
std::string Mailbox(const std::string& name, const std::string& address) {
  if (name.empty()) return absl::StrCat("<", address, ">");
  std::string shown = IsAscii(name) ? absl::StrCat("\"", absl::StrReplaceAll(name, {{"\"", "'"}}), "\"")
                                    : EncodeHeaderWord(name);
  return absl::StrCat(shown, " <", address, ">");
}

std::string Hmac(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string PlainText(const Mail& m) {
  std::string t = absl::StrCat("Bonjour", m.to_name.empty() ? "" : " " + m.to_name, ",\r\n\r\n");
  if (!m.intro.empty()) absl::StrAppend(&t, m.intro, "\r\n\r\n");
  for (const auto& it : m.items) {
    absl::StrAppend(&t, m.items.size() > 1 ? "* " : "", it.title, "\r\n\r\n",
                    absl::StrReplaceAll(it.body, {{"\n", "\r\n"}}), "\r\n\r\n",
                    "Voir dans la console : ", it.link, "\r\n\r\n");
  }
  absl::StrAppend(&t, "-- \r\nPépinière, l'incubateur de start-ups publiques.\r\n");
  if (!m.settings_url.empty()) {
    absl::StrAppend(&t, "Choisir ce que vous recevez : ", m.settings_url, "\r\n");
  }
  if (!m.unsubscribe_url.empty()) {
    absl::StrAppend(&t, "Ne plus recevoir ces courriels (", m.unsubscribe_label, ") : ",
                    m.unsubscribe_url, "\r\n");
  }
  return t;
}

// Inline styles only (mail clients drop <style> and web fonts): the DSFR's blue France
// #000091, grey #3a3a3a, Marianne when installed, else Arial; no image.
std::string Html(const Mail& m) {
  const std::string font = "font-family:Marianne,Arial,sans-serif;";
  std::string h = absl::StrCat(
      "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>",
      HtmlEscape(m.subject), "</title></head><body style=\"margin:0;background:#f6f6f6;", font,
      "color:#3a3a3a\"><div style=\"max-width:600px;margin:0 auto;background:#ffffff;"
      "border-top:4px solid #000091;padding:24px\"><p style=\"margin:0 0 16px;font-weight:700;"
      "color:#000091;font-size:18px\">Pépinière</p><p>Bonjour",
      m.to_name.empty() ? "" : " " + HtmlEscape(m.to_name), ",</p>");
  if (!m.intro.empty()) absl::StrAppend(&h, "<p>", HtmlEscape(m.intro), "</p>");
  for (const auto& it : m.items) {
    absl::StrAppend(&h, "<h2 style=\"font-size:16px;color:#161616;margin:24px 0 8px\">",
                    HtmlEscape(it.title), "</h2>");
    for (absl::string_view para : absl::StrSplit(it.body, "\n\n")) {
      absl::StrAppend(&h, "<p style=\"margin:0 0 12px\">",
                      absl::StrReplaceAll(HtmlEscape(std::string(para)), {{"\n", "<br>"}}), "</p>");
    }
    absl::StrAppend(&h, "<p><a href=\"", HtmlEscape(it.link),
                    "\" style=\"display:inline-block;background:#000091;color:#f5f5fe;"
                    "padding:8px 16px;text-decoration:none\">Voir dans la console</a></p>");
  }
  absl::StrAppend(&h, "<hr style=\"border:0;border-top:1px solid #dddddd;margin:24px 0\">"
                      "<p style=\"font-size:12px;color:#666666\">Pépinière, l'incubateur de "
                      "start-ups publiques.");
  if (!m.settings_url.empty()) {
    absl::StrAppend(&h, " <a href=\"", HtmlEscape(m.settings_url),
                    "\" style=\"color:#000091\">Choisir ce que vous recevez</a>.");
  }
  if (!m.unsubscribe_url.empty()) {
    absl::StrAppend(&h, " <a href=\"", HtmlEscape(m.unsubscribe_url),
                    "\" style=\"color:#000091\">Ne plus recevoir ces courriels (",
                    HtmlEscape(m.unsubscribe_label), ")</a>.");
  }
  absl::StrAppend(&h, "</p></div></body></html>");
  return h;
}

}  // namespace


std::string EncodeHeaderWord(const std::string& text) {
  if (IsAscii(text)) return text;
  // Encoded words of at most 75 characters, split between UTF-8 characters (RFC 2047 §5).
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = std::min(text.size(), i + 42);  // 42 bytes -> 56 base64 characters
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    std::string chunk = text.substr(i, end - i);
    for (char& c : chunk) {
      if (c == '\r' || c == '\n') c = ' ';
    }
    absl::StrAppend(&out, out.empty() ? "" : "\r\n ", "=?UTF-8?B?", absl::Base64Escape(chunk), "?=");
    i = end;
  }
  return out;
}

std::string RenderMime(const Mail& m) {
  const std::string boundary = absl::StrCat(
      "=_pep_", absl::WebSafeBase64Escape(Hmac("boundary", m.message_id)).substr(0, 24));
  std::string out = absl::StrCat(
      "From: ", Mailbox(m.from_name, m.from_address), "\r\n",
      "To: ", Mailbox(m.to_name, m.to_address), "\r\n",
      "Subject: ", EncodeHeaderWord(m.subject), "\r\n",
      "Date: ", absl::FormatTime("%a, %d %b %Y %H:%M:%S +0000", m.date, absl::UTCTimeZone()), "\r\n",
      "Message-ID: ", m.message_id, "\r\n",
      "MIME-Version: 1.0\r\n",
      "Auto-Submitted: auto-generated\r\n");
  if (!m.unsubscribe_url.empty()) {
    absl::StrAppend(&out, "List-Unsubscribe: <", m.unsubscribe_url, ">\r\n",
                    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
  }
  absl::StrAppend(&out, "Content-Type: multipart/alternative; boundary=\"", boundary, "\"\r\n\r\n",
                  "--", boundary, "\r\n",
                  "Content-Type: text/plain; charset=UTF-8\r\n",
                  "Content-Transfer-Encoding: base64\r\n\r\n", Base64Lines(PlainText(m)),
                  "--", boundary, "\r\n",
                  "Content-Type: text/html; charset=UTF-8\r\n",
                  "Content-Transfer-Encoding: base64\r\n\r\n", Base64Lines(Html(m)),
                  "--", boundary, "--\r\n");
  return out;
}

std::string SignUnsubscribe(const std::string& key, const std::string& account_id,
                            const std::string& category, absl::Time expires) {
  const std::string payload =
      absl::StrCat(account_id, "\n", category, "\n", absl::ToUnixSeconds(expires));
  return absl::StrCat(absl::WebSafeBase64Escape(payload), ".",
                      absl::WebSafeBase64Escape(Hmac(key, payload)));
}

absl::StatusOr<Unsubscription> VerifyUnsubscribe(const std::string& key, const std::string& token,
                                                 absl::Time now) {
  const std::vector<std::string> parts = absl::StrSplit(token, '.');
  std::string payload, mac;
  if (parts.size() != 2 || !absl::WebSafeBase64Unescape(parts[0], &payload) ||
      !absl::WebSafeBase64Unescape(parts[1], &mac)) {
    return absl::InvalidArgumentError("token: not an unsubscribe link of Pépinière");
  }
  const std::string want = Hmac(key, payload);
  if (mac.size() != want.size() || CRYPTO_memcmp(mac.data(), want.data(), want.size()) != 0) {
    return absl::InvalidArgumentError("token: the link was altered or is not ours");
  }
  const std::vector<std::string> f = absl::StrSplit(payload, '\n');
  int64_t expires = 0;
  if (f.size() != 3 || !absl::SimpleAtoi(f[2], &expires)) {
    return absl::InvalidArgumentError("token: not an unsubscribe link of Pépinière");
  }
  if (now > absl::FromUnixSeconds(expires)) {
    return absl::FailedPreconditionError(
        "token: the link has expired; choose what you receive in the console (Mes notifications)");
  }
  return Unsubscription{f[0], f[1]};
}

const absl::TimeZone& ParisTime() {
  static const absl::TimeZone tz = [] {
    absl::TimeZone z;
    return absl::LoadTimeZone("Europe/Paris", &z) ? z : absl::UTCTimeZone();
  }();
  return tz;
}

absl::Duration RetryDelay(int attempt, absl::Duration max) {
  absl::Duration d = absl::Seconds(5);
  for (int i = 1; i < attempt && d < max; ++i) d *= 2;
  return std::min(d, max);
}

std::string DailyPeriod(absl::Time t) { return absl::FormatTime("%Y-%m-%d", t, ParisTime()); }

std::string WeeklyPeriod(absl::Time t) {
  // ISO 8601 week: the week of the Thursday of this week.
  const absl::CivilDay d = absl::ToCivilDay(t, ParisTime());
  const int dow = static_cast<int>(absl::GetWeekday(d));  // Monday = 0
  const absl::CivilDay thursday = d - dow + 3;
  const int week = static_cast<int>((absl::GetYearDay(thursday) - 1) / 7 + 1);
  return absl::StrCat(thursday.year(), "-W", week < 10 ? "0" : "", week);
}

}  // namespace pep::notify
