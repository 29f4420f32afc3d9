#include "services/gateway/public_pages.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/text.h"
#include "services/gateway/http_client.h"

namespace pep::gateway {

namespace {

constexpr int kPageSize = 20;

std::string H(std::string_view s) { return HtmlEscape(s); }

// Lower-case, French accents folded: « École » finds « ecole ».
std::string Fold(std::string_view s) {
  static const std::vector<std::pair<std::string, char>> kAccents = {
      {"à", 'a'}, {"â", 'a'}, {"ä", 'a'}, {"é", 'e'}, {"è", 'e'}, {"ê", 'e'}, {"ë", 'e'}, {"î", 'i'},
      {"ï", 'i'}, {"ô", 'o'}, {"ö", 'o'}, {"ù", 'u'}, {"û", 'u'}, {"ü", 'u'}, {"ç", 'c'}, {"À", 'a'},
      {"Â", 'a'}, {"É", 'e'}, {"È", 'e'}, {"Ê", 'e'}, {"Î", 'i'}, {"Ô", 'o'}, {"Ù", 'u'}, {"Ç", 'c'}};
  std::string out;
  for (size_t i = 0; i < s.size();) {
    bool folded = false;
    for (const auto& [from, to] : kAccents) {
      if (s.compare(i, from.size(), from) == 0) {
        out.push_back(to);
        i += from.size();
        folded = true;
        break;
      }
    }
    if (!folded) out.push_back(absl::ascii_tolower(static_cast<unsigned char>(s[i++])));
  }
  return out;
}

std::string Day(const google::protobuf::Timestamp& t) {
  static const char* kMonths[] = {"janvier", "février", "mars",      "avril",   "mai",      "juin",
                                  "juillet", "août",    "septembre", "octobre", "novembre", "décembre"};
  const absl::CivilDay d = absl::ToCivilDay(absl::FromUnixSeconds(t.seconds()), absl::UTCTimeZone());
  return absl::StrCat(d.day() == 1 ? "1er" : absl::StrCat(d.day()), " ", kMonths[d.month() - 1], " ", d.year());
}

const char* kUnavailable = "<p class=\"fr-text--sm pep-na\">Non disponible : l'équipe ne publie pas cette information.</p>";

// The page around a content: the State's header, the public navigation, the footer.
std::string Layout(const std::string& title, const std::string& assets, const std::string& current,
                   const std::string& body) {
  auto nav = [&](const char* href, const char* label) {
    return absl::StrCat("<li class=\"fr-nav__item\"><a class=\"fr-nav__link\" href=\"", href, "\"",
                        current == href ? " aria-current=\"page\"" : "", ">", label, "</a></li>");
  };
  return absl::StrCat(
      "<!doctype html>\n<html lang=\"fr\" data-fr-scheme=\"light\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>", H(title), " — Pépinière, les start-ups publiques de l'incubateur</title>"
      "<link rel=\"stylesheet\" href=\"", H(assets), "/dsfr/dsfr.min.css\">"
      "<link rel=\"stylesheet\" href=\"", H(assets), "/style.css\">"
      "<link rel=\"icon\" href=\"", H(assets), "/dsfr/favicon/favicon.svg\" type=\"image/svg+xml\"></head><body>"
      "<div class=\"fr-skiplinks\"><nav class=\"fr-container\" role=\"navigation\" aria-label=\"Accès rapide\">"
      "<ul class=\"fr-skiplinks__list\"><li><a class=\"fr-link\" href=\"#main\">Aller au contenu</a></li></ul></nav></div>"
      "<header role=\"banner\" class=\"fr-header\"><div class=\"fr-header__body\"><div class=\"fr-container\">"
      "<div class=\"fr-header__body-row\"><div class=\"fr-header__brand fr-enlarge-link\"><div class=\"fr-header__brand-top\">"
      "<div class=\"fr-header__logo\"><p class=\"fr-logo\">République<br>Française</p></div></div>"
      "<div class=\"fr-header__service\"><a href=\"/startups\" title=\"Accueil — Pépinière\">"
      "<p class=\"fr-header__service-title\">Pépinière</p></a>"
      "<p class=\"fr-header__service-tagline\">Les start-ups publiques de l'incubateur</p></div></div></div></div></div>"
      "<div class=\"fr-header__menu\"><div class=\"fr-container\"><nav class=\"fr-nav\" role=\"navigation\" "
      "aria-label=\"Menu principal\"><ul class=\"fr-nav__list\">",
      nav("/startups", "Les start-ups"), nav("/statistiques", "Statistiques"),
      nav("/api/v2.7/startups.json", "Données ouvertes"),
      "</ul></nav></div></div></header>"
      "<main id=\"main\" role=\"main\" class=\"fr-container fr-my-4w\">", body, "</main>"
      "<footer class=\"fr-footer\" role=\"contentinfo\"><div class=\"fr-container\"><div class=\"fr-footer__body\">"
      "<div class=\"fr-footer__brand\"><p class=\"fr-logo\">République<br>Française</p></div>"
      "<div class=\"fr-footer__content\"><p class=\"fr-footer__content-desc\">Seules les informations que "
      "l'incubateur a choisi de publier figurent ici. Données ouvertes au format de beta.gouv.fr : "
      "<a href=\"/api/v2.7/startups.json\">JSON</a>, <a href=\"/api/v2.7/startups.csv\">CSV</a>.</p>"
      "</div></div></div></footer></body></html>\n");
}

std::string Link(const std::string& url, const std::string& label) {
  return absl::StrCat("<a class=\"fr-link\" href=\"", H(url), "\" rel=\"noopener\">", H(label), "</a>");
}

std::string PhaseBadge(nv1::Phase p) {
  return absl::StrCat("<p class=\"fr-badge fr-badge--sm fr-badge--info fr-badge--no-icon\">", H(PhaseWord(p)), "</p>");
}

bool Matches(const nv1::PublicStartup& s, const PortfolioQuery& q) {
  if (!q.incubator.empty() && s.incubator() != q.incubator) return false;
  if (!q.phase.empty() && nv1::Phase_Name(s.phase()) != q.phase) return false;
  if (!q.thematique.empty() &&
      std::find(s.thematiques().begin(), s.thematiques().end(), q.thematique) == s.thematiques().end()) {
    return false;
  }
  if (!q.sponsor.empty() && std::find(s.sponsors().begin(), s.sponsors().end(), q.sponsor) == s.sponsors().end()) {
    return false;
  }
  if (q.q.empty()) return true;
  const std::string hay = Fold(absl::StrCat(s.name(), " ", s.mission(), " ", absl::StrJoin(s.thematiques(), " ")));
  for (absl::string_view w : absl::StrSplit(Fold(q.q), ' ', absl::SkipWhitespace())) {
    if (hay.find(std::string(w)) == std::string::npos) return false;
  }
  return true;
}

std::string Select(const std::string& id, const std::string& label, const std::string& name,
                   const std::vector<std::pair<std::string, std::string>>& options, const std::string& chosen) {
  std::string out = absl::StrCat("<div class=\"fr-select-group\"><label class=\"fr-label\" for=\"", id, "\">", H(label),
                                 "</label><select class=\"fr-select\" id=\"", id, "\" name=\"", name,
                                 "\"><option value=\"\">Tous</option>");
  for (const auto& [v, l] : options) {
    absl::StrAppend(&out, "<option value=\"", H(v), "\"", v == chosen ? " selected" : "", ">", H(l), "</option>");
  }
  return out + "</select></div>";
}

std::string QueryString(const PortfolioQuery& q, int page) {
  std::vector<std::string> parts;
  auto add = [&](const char* k, const std::string& v) {
    if (!v.empty()) parts.push_back(absl::StrCat(k, "=", UrlEncode(v)));
  };
  add("q", q.q);
  add("incubateur", q.incubator);
  add("phase", q.phase);
  add("thematique", q.thematique);
  add("sponsor", q.sponsor);
  if (page > 1) parts.push_back(absl::StrCat("page=", page));
  return parts.empty() ? "" : "?" + absl::StrJoin(parts, "&");
}

// "2026-12-07T…" as « 07/12/2026 ».
std::string IsoDay(const std::string& rfc3339) {
  if (rfc3339.size() < 10) return H(rfc3339);
  return H(absl::StrCat(rfc3339.substr(8, 2), "/", rfc3339.substr(5, 2), "/", rfc3339.substr(0, 4)));
}

// The band as beta.gouv.fr's dashboards colour it, and its words; nothing below the threshold.
std::string BandWord(const std::string& band) {
  if (band == "BAND_GREEN") return "Bonne";
  if (band == "BAND_YELLOW") return "Moyenne";
  if (band == "BAND_RED") return "Mauvaise";
  return "";
}

std::string Satisfaction(const nv1::PublicStartup& s) {
  if (!s.policy().satisfaction()) return kUnavailable;
  if (s.satisfaction_band().empty()) {
    return "<p class=\"fr-text--sm pep-na\" id=\"satisfaction\">Non disponible : le service ne recueille pas encore d'avis.</p>";
  }
  if (s.satisfaction_band() == "BAND_INSUFFICIENT_DATA") {
    return absl::StrCat("<p id=\"satisfaction\">Pas encore assez d'avis pour une note : il en faut ", s.band_threshold(),
                        " sur 12 mois.</p>");
  }
  const char* badge = s.satisfaction_band() == "BAND_GREEN"    ? "success"
                      : s.satisfaction_band() == "BAND_YELLOW" ? "warning"
                                                               : "error";
  return absl::StrCat("<p id=\"satisfaction\"><span class=\"fr-badge fr-badge--", badge, "\">", BandWord(s.satisfaction_band()),
                      "</span> ", absl::StrReplaceAll(absl::StrFormat("%.1f", s.satisfaction()), {{".", ","}}),
                      "/10 sur les 12 derniers mois (", s.answers(), " avis).</p>");
}

// The indicators the team keeps in its fiche (« usagers accompagnés : 1 200 familles »).
std::string Indicators(const nv1::PublicStartup& s) {
  if (!s.policy().kpis() || s.kpis_size() == 0) return kUnavailable;
  std::string out = "<ul id=\"kpis\">";
  for (const auto& k : s.kpis()) {
    std::string v = absl::StrFormat("%.15g", k.value());
    absl::StrReplaceAll({{".", ","}}, &v);
    absl::StrAppend(&out, "<li>", H(k.name()), " : <strong>", H(v), "</strong>", k.unit().empty() ? "" : " ", H(k.unit()),
                    "</li>");
  }
  return out + "</ul>";
}

// The agents' idea it came from, when the start-up publishes it: named only who agreed.
std::string Origin(const nv1::PublicStartup& s) {
  if (!s.policy().origin_idea() || s.origin_title().empty()) return kUnavailable;
  return absl::StrCat("<p id=\"origin\">Issue de l'idée « ", H(s.origin_title()), " », déposée le ",
                      Day(s.origin_submitted_at()), " au défi « ", H(s.origin_challenge()), " »",
                      s.origin_credited().empty() ? std::string()
                                                  : absl::StrCat(" par ", H(absl::StrJoin(s.origin_credited(), ", "))),
                      ".</p>");
}

// « Preuve » after a fact attested on the ledger (nothing before its attestation is known).
std::string ProofLink(const std::string& fact_id, const std::string& what) {
  if (fact_id.empty()) return "";
  return absl::StrCat(" <a class=\"fr-link fr-text--sm pep-proof\" href=\"/ledger/faits/", H(fact_id),
                      "\">Preuve<span class=\"fr-sr-only\"> dans le registre : ", H(what), "</span></a>");
}

// The phase history as a picture — a bar per phase, each at least a tenth of the width (a phase of
// a few days stays visible), the rest shared in proportion to its length, up to today — and,
// for whoever does not see it, the same as a list.
std::string Timeline(const nv1::PublicStartup& s, absl::Time today) {
  if (s.phases_size() == 0) return kUnavailable;
  const int n = s.phases_size();
  std::vector<double> hours;
  double sum = 0;
  for (const auto& p : s.phases()) {
    const absl::Time from = absl::FromUnixSeconds(p.start().seconds());
    const absl::Time to = p.has_end() ? absl::FromUnixSeconds(p.end().seconds()) : std::max(today, from);
    hours.push_back(std::max(absl::ToDoubleHours(to - from), 1.0));
    sum += hours.back();
  }
  const double least = std::min(10.0, 50.0 / n);
  double x = 0;
  std::string bars, items;
  for (int i = 0; i < n; ++i) {
    const auto& p = s.phases(i);
    const double w = least + (100.0 - least * n) * hours[i] / sum;
    absl::StrAppend(&bars, absl::StrFormat("<rect x=\"%.2f%%\" y=\"0\" width=\"%.2f%%\" height=\"24\" class=\"pep-phase-%d\">"
                                           "<title>%s</title></rect>",
                                           x, w, static_cast<int>(p.phase()), H(PhaseWord(p.phase()))));
    x += w;
    absl::StrAppend(&items, "<li><strong>", H(PhaseWord(p.phase())), "</strong> : depuis le ", Day(p.start()),
                    p.has_end() ? absl::StrCat(" jusqu'au ", Day(p.end())) : std::string(" (en cours)"),
                    ProofLink(p.fact_id(), absl::StrCat("entrée en ", PhaseWord(p.phase()), " le ", Day(p.start()))),
                    "</li>");
  }
  return absl::StrCat("<svg class=\"pep-phasebar\" width=\"100%\" height=\"24\" role=\"img\" aria-label=\"Frise des phases, "
                      "détaillée ci-dessous\">", bars, "</svg><ol class=\"pep-phases\">", items, "</ol>");
}

}  // namespace

std::string PhaseWord(nv1::Phase p) {
  switch (p) {
    case nv1::PHASE_INVESTIGATION: return "Investigation";
    case nv1::PHASE_CONSTRUCTION: return "Construction";
    case nv1::PHASE_ACCELERATION: return "Accélération";
    case nv1::PHASE_CONSOLIDATION: return "Consolidation";
    case nv1::PHASE_TRANSFERRED: return "Transférée";
    case nv1::PHASE_OPERATED: return "Opérée";
    case nv1::PHASE_ABANDONED_IN_INVESTIGATION: return "Abandonnée (investigation)";
    case nv1::PHASE_ABANDONED: return "Abandonnée";
    default: return "Phase non précisée";
  }
}

std::string PublicPortfolioPage(const nv1::ListPublicStartupsResponse& list, const PortfolioQuery& q,
                                const std::string& assets) {
  std::set<std::string> incubators, thematiques, sponsors;
  std::set<int> phases;
  for (const auto& s : list.startups()) {
    incubators.insert(s.incubator());
    phases.insert(s.phase());
    thematiques.insert(s.thematiques().begin(), s.thematiques().end());
    sponsors.insert(s.sponsors().begin(), s.sponsors().end());
  }
  auto same = [](const std::set<std::string>& v) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& x : v) out.push_back({x, x});
    return out;
  };
  std::vector<std::pair<std::string, std::string>> phase_options;
  for (int p : phases) phase_options.push_back({nv1::Phase_Name(static_cast<nv1::Phase>(p)), PhaseWord(static_cast<nv1::Phase>(p))});
  std::vector<const nv1::PublicStartup*> found;
  for (const auto& s : list.startups()) {
    if (Matches(s, q)) found.push_back(&s);
  }
  const int pages = std::max(1, static_cast<int>((found.size() + kPageSize - 1) / kPageSize));
  const int page = std::clamp(q.page, 1, pages);
  std::string body = absl::StrCat(
      "<h1>Les start-ups publiques de l'incubateur</h1>"
      "<form method=\"get\" action=\"/startups\" class=\"pep-public-filters\" role=\"search\">"
      "<div class=\"fr-input-group\"><label class=\"fr-label\" for=\"f-q\">Rechercher (nom, mission, thématique)</label>"
      "<input class=\"fr-input\" type=\"search\" id=\"f-q\" name=\"q\" value=\"", H(q.q), "\"></div>",
      Select("f-incubator", "Incubateur", "incubateur", same(incubators), q.incubator),
      Select("f-phase", "Phase", "phase", phase_options, q.phase),
      Select("f-thematique", "Thématique", "thematique", same(thematiques), q.thematique),
      Select("f-sponsor", "Sponsor", "sponsor", same(sponsors), q.sponsor),
      "<button class=\"fr-btn fr-mt-2w\" type=\"submit\">Filtrer</button></form>",
      "<p id=\"count\" role=\"status\">", found.size(), " start-up", found.size() > 1 ? "s" : "",
      found.size() == static_cast<size_t>(list.startups_size()) ? "" : absl::StrCat(" sur ", list.startups_size()),
      "</p><ul class=\"pep-public-list\">");
  for (size_t i = (page - 1) * kPageSize; i < found.size() && i < static_cast<size_t>(page * kPageSize); ++i) {
    const auto& s = *found[i];
    absl::StrAppend(&body, "<li><h2 class=\"fr-h5\"><a href=\"/startups/", H(s.id()), "\">", H(s.name()), "</a></h2>",
                    PhaseBadge(s.phase()), "<p class=\"fr-text--sm\">Incubateur : ", H(s.incubator()),
                    s.policy().mission() ? absl::StrCat("<br>", H(s.mission())) : std::string(), "</p></li>");
  }
  absl::StrAppend(&body, "</ul>");
  if (pages > 1) {
    absl::StrAppend(&body, "<nav role=\"navigation\" class=\"fr-pagination\" aria-label=\"Pagination\"><ul class=\"fr-pagination__list\">");
    for (int p = 1; p <= pages; ++p) {
      if (p == page) {
        absl::StrAppend(&body, "<li><a class=\"fr-pagination__link\" aria-current=\"page\" title=\"Page ", p, "\">", p, "</a></li>");
      } else if (p == 1 || p == pages || std::abs(p - page) <= 2) {
        absl::StrAppend(&body, "<li><a class=\"fr-pagination__link\" href=\"/startups", H(QueryString(q, p)),
                        "\" title=\"Page ", p, "\">", p, "</a></li>");
      }
    }
    absl::StrAppend(&body, "</ul></nav>");
  }
  return Layout("Les start-ups publiques", assets, "/startups", body);
}

std::string PublicStartupPage(const nv1::PublicStartup& s, const std::string& assets, absl::Time today) {
  const auto& p = s.policy();
  std::string body = absl::StrCat(
      "<nav role=\"navigation\" class=\"fr-breadcrumb\" aria-label=\"vous êtes ici :\"><ol class=\"fr-breadcrumb__list\">"
      "<li><a class=\"fr-breadcrumb__link\" href=\"/startups\">Les start-ups</a></li>"
      "<li><a class=\"fr-breadcrumb__link\" aria-current=\"page\">", H(s.name()), "</a></li></ol></nav>"
      "<h1>", H(s.name()), "</h1>", PhaseBadge(s.phase()),
      "<p>Incubateur : ", H(s.incubator()), "</p><h2>Mission</h2>",
      p.mission() && !s.mission().empty() ? absl::StrCat("<p id=\"mission\">", H(s.mission()), "</p>") : kUnavailable,
      "<h2>Phases</h2>", p.phases() ? Timeline(s, today) : kUnavailable, "<h2>Événements</h2>");
  if (p.events() && s.events_size() > 0) {
    absl::StrAppend(&body, "<ul id=\"events\">");
    for (const auto& e : s.events()) {
      absl::StrAppend(&body, "<li>", Day(e.date()), " — ", H(e.title()),
                      ProofLink(e.fact_id(), absl::StrCat(Day(e.date()), ", ", e.title())), "</li>");
    }
    absl::StrAppend(&body, "</ul>");
  } else {
    absl::StrAppend(&body, kUnavailable);
  }
  absl::StrAppend(&body, "<h2>Équipe</h2>");
  if (p.team() && s.team_size() > 0) {
    absl::StrAppend(&body, "<ul id=\"team\">");
    for (const auto& m : s.team()) {
      absl::StrAppend(&body, "<li>", H(m.name()), m.role().empty() ? "" : absl::StrCat(" — ", H(m.role())),
                      m.has_end() ? " (a quitté l'équipe)" : "", "</li>");
    }
    absl::StrAppend(&body, "</ul>");
  } else {
    absl::StrAppend(&body, kUnavailable);
  }
  absl::StrAppend(&body, "<h2>Sponsors</h2>",
                  p.sponsors() && s.sponsors_size() > 0
                      ? absl::StrCat("<p id=\"sponsors\">", H(absl::StrJoin(s.sponsors(), ", ")), "</p>")
                      : kUnavailable,
                  "<h2>Thématiques</h2>",
                  p.thematiques() && s.thematiques_size() > 0
                      ? absl::StrCat("<p>", H(absl::StrJoin(s.thematiques(), ", ")), "</p>")
                      : kUnavailable,
                  "<h2>Indicateurs</h2>", Indicators(s), "<h2>L'idée d'origine</h2>", Origin(s),
                  "<h2>Satisfaction des usagers</h2>", Satisfaction(s), "<h2>Transparence</h2>");
  std::vector<std::string> links;
  if (p.links()) {
    if (!s.links().product().empty()) links.push_back(Link(s.links().product(), "Le service en ligne"));
    if (!s.links().repository().empty()) links.push_back(Link(s.links().repository(), "Le code source"));
    if (!s.links().stats().empty()) links.push_back(Link(s.links().stats(), "Les statistiques d'usage"));
  }
  absl::StrAppend(&body, links.empty() ? kUnavailable : absl::StrCat("<ul id=\"links\"><li>", absl::StrJoin(links, "</li><li>"), "</li></ul>"));
  return Layout(s.name(), assets, "", body);
}

std::string PublicStatsPage(const nv1::ListPublicStartupsResponse& list, const std::string& assets) {
  std::map<int, int> by_phase;
  std::map<int, int> by_year;  // the year each began
  std::map<std::string, int> by_band;  // of those that publish it, past the threshold
  int launched = 0;
  for (const auto& s : list.startups()) {
    ++by_phase[s.phase()];
    if (s.phases_size() > 0) {
      ++by_year[absl::ToCivilYear(absl::FromUnixSeconds(s.phases(0).start().seconds()), absl::UTCTimeZone()).year()];
    }
    for (const auto& e : s.events()) launched += e.milestone_kind() == nv1::MILESTONE_KIND_PRODUCT_LAUNCH ? 1 : 0;
    const std::string word = BandWord(s.satisfaction_band());
    if (!word.empty()) ++by_band[word];
  }
  auto table = [](const std::string& id, const std::string& caption, const std::string& head,
                  const std::vector<std::pair<std::string, int>>& rows) {
    std::string out = absl::StrCat("<div class=\"fr-table\" id=\"", id, "\"><table><caption>", H(caption),
                                   "</caption><thead><tr><th scope=\"col\">", H(head),
                                   "</th><th scope=\"col\">Start-ups</th></tr></thead><tbody>");
    for (const auto& [k, v] : rows) absl::StrAppend(&out, "<tr><td>", H(k), "</td><td>", v, "</td></tr>");
    return out + "</tbody></table></div>";
  };
  std::vector<std::pair<std::string, int>> phases, years;
  for (const auto& [p, n] : by_phase) phases.push_back({PhaseWord(static_cast<nv1::Phase>(p)), n});
  for (const auto& [y, n] : by_year) years.push_back({absl::StrCat(y), n});
  const std::string body = absl::StrCat(
      "<h1>Statistiques publiques</h1><p>", list.startups_size(), " start-up", list.startups_size() > 1 ? "s" : "",
      " publiée", list.startups_size() > 1 ? "s" : "", " ; ", launched, " mise", launched > 1 ? "s" : "",
      " en production annoncée", launched > 1 ? "s" : "", " (parmi les événements publiés).</p>",
      table("by-phase", "Start-ups par phase", "Phase", phases),
      table("by-year", "Start-ups par année de début", "Année", years),
      by_band.empty() ? std::string()
                      : table("by-band", "Satisfaction des usagers sur 12 mois (start-ups qui la publient, assez d'avis)",
                              "Satisfaction", {{"Bonne", by_band["Bonne"]}, {"Moyenne", by_band["Moyenne"]},
                                               {"Mauvaise", by_band["Mauvaise"]}}));
  return Layout("Statistiques publiques", assets, "/statistiques", body);
}

std::string PublicMessagePage(const std::string& title, const std::string& text, const std::string& assets) {
  return Layout(title, assets, "",
                absl::StrCat("<h1>", H(title), "</h1><p>", H(text),
                             "</p><p><a href=\"/startups\">Voir les start-ups publiées</a></p>"));
}

std::string PublicNotFoundPage(const std::string& id, const std::string& assets) {
  return PublicMessagePage("Start-up introuvable",
                           absl::StrCat("Aucune start-up publiée ne porte l'identifiant « ", id, " »."), assets);
}

std::string PublicFactPage(const FactProofView& v, const std::string& fact_id, const std::string& assets) {
  const auto& f = v.fact;
  std::string body = absl::StrCat(
      "<nav role=\"navigation\" class=\"fr-breadcrumb\" aria-label=\"vous êtes ici :\"><ol class=\"fr-breadcrumb__list\">"
      "<li><a class=\"fr-breadcrumb__link\" href=\"/startups\">Les start-ups</a></li>",
      v.withheld ? "" : absl::StrCat("<li><a class=\"fr-breadcrumb__link\" href=\"/startups/", H(f.public_id()), "\">",
                                     H(f.startup_name()), "</a></li>"),
      "<li><a class=\"fr-breadcrumb__link\" aria-current=\"page\">Preuve</a></li></ol></nav>"
      "<h1>Un fait public et sa preuve</h1>");
  if (v.withheld) {
    absl::StrAppend(&body, "<div class=\"fr-alert fr-alert--info fr-mb-3w\"><p>Ce fait n'est plus public depuis le ",
                    IsoDay(v.withdrawn_at), v.withdrawn_reason == "unpublished" ? " (start-up dépubliée)"
                                                     : v.withdrawn_reason == "corrected" ? " (historique des phases corrigé)"
                                                                                         : " (partie retirée de la publication)",
                    ". Le registre en garde l'empreinte, pas le contenu ; le retrait y est inscrit à l'entrée n° ",
                    v.withdrawn_index, ".</p></div>");
  } else {
    absl::StrAppend(&body, "<blockquote class=\"fr-quote\" id=\"fact\"><p>« ", H(f.statement()), " »</p></blockquote>");
  }
  absl::StrAppend(
      &body, "<h2>Ce que dit le registre</h2><dl class=\"pep-proof-facts\">"
      "<dt>Entrée du registre</dt><dd id=\"fact-index\">n° ", v.index, " (inscrite le ", IsoDay(v.recorded), ")</dd>"
      "<dt>Point de contrôle signé</dt><dd id=\"fact-tree\">", v.tree_size, " entrées</dd>"
      "<dt>Identifiant du fait</dt><dd><code>", H(fact_id), "</code></dd></dl>"
      "<p>Le registre de Pépinière est un journal vérifiable (RFC 9162) : chaque événement y est une entrée "
      "inscrite une fois pour toutes, et un point de contrôle signé atteste de l'ensemble. La preuve ci-dessous "
      "relie ce fait à ce point de contrôle ; elle se vérifie hors ligne, sans faire confiance à l'incubateur.</p>"
      "<p><a class=\"fr-btn\" id=\"proof-download\" href=\"/v1/public/facts/", H(fact_id),
      "/proof\" download>Télécharger la preuve (JSON Lines)</a></p>"
      "<h2>La vérifier</h2><p>Avec la clé publique du registre :</p><pre class=\"pep-pre\"><code>pepctl ledger verify preuve-",
      H(fact_id), ".jsonl --key '", H(v.verifier_key), "'</code></pre>"
      "<p>ou, avec Python 3 seul : <code>verify-ledger.py --key '…' preuve-", H(fact_id), ".jsonl</code> "
      "(services/audit/tools). Comparez la clé à celle que l'incubateur publie ailleurs.</p>"
      "<h2>Le point de contrôle</h2><pre class=\"pep-pre\" id=\"checkpoint\">", H(v.checkpoint), "</pre>");
  return Layout("Preuve d'un fait public", assets, "", body);
}

}  // namespace pep::gateway
