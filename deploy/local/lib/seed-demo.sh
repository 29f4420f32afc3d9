#!/usr/bin/env bash
# Seeds the LAB06 demo on a fresh data dir, through the public REST API only (the gateway):
# the "Simplification administrative" challenge with 19 ideas from agents of several services,
# a jury of 5 scoring them (their addresses filed for pep-notify), 3 prizes, 2 ideas selected → 2 start-ups in investigation (opened by
# pep-incubation from the events), one moved to construction after a committee, milestones
# pushed by its team with pepctl, users' feedback; plus a three-line imported portfolio.
# Usage: seed-demo.sh GATEWAY_URL COORDINATOR_TOKEN PEPCTL
set -euo pipefail
URL="$1"; COORD="$2"; PEPCTL="$3"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

api() {  # METHOD PATH TOKEN [JSON] -> body on stdout; fails loudly on a non-2xx answer
  local out code
  out=$(mktemp)
  code=$(curl -sS -o "$out" -w '%{http_code}' -X "$1" "$URL$2" \
    ${3:+-H "Authorization: Bearer $3"} ${4:+-H 'Content-Type: application/json' --data-binary "$4"})
  if [[ "$code" != 2* ]]; then
    echo "seed-demo: $1 $2 -> HTTP $code: $(cat "$out")" >&2
    rm -f "$out"
    return 1
  fi
  cat "$out"
  rm -f "$out"
}
token() {  # ROLE ACTOR [SCOPE] -> secret
  api POST /v1/tokens "$COORD" "$(jq -nc --arg r "$1" --arg a "$2" --arg s "${3:-}" \
    '{role:$r, actor:$a, scope:$s, name:"démo"}')" | jq -r .secret
}

challenge=$(api POST /v1/challenges "$COORD" '{
  "title": "Simplification administrative",
  "theme": "simplification",
  "description": "Défi interne du LAB06 : vos idées pour simplifier les démarches des usagers et des agents.",
  "criteria": [{"name": "impact usagers", "weight": 3}, {"name": "faisabilité", "weight": 2},
               {"name": "coût", "weight": 1}],
  "jury_quorum": 3}' | jq -r .id)
api POST "/v1/challenges/$challenge:open" "$COORD" > /dev/null
jurors=(jury-dgs jury-dsi jury-usagers jury-finances jury-lab06)
# Their addresses first (they use tokens, not sign-in): pep-notify e-mails their designation.
for juror in "${jurors[@]}"; do
  api PUT "/v1/notifications/contacts/$juror" "$COORD" "$(jq -nc --arg e "$juror@departement06.fr" \
    --arg n "Jury ${juror#jury-}" '{email:$e, display_name:$n}')" > /dev/null
done
api POST "/v1/challenges/$challenge/jurors" "$COORD" \
  "$(printf '%s\n' "${jurors[@]}" | jq -R . | jq -sc '{juror_ids: .}')" > /dev/null

# 19 ideas: author|department|title|problem|proposal
IDEAS=(
  "Camille Martin|Direction de l'action sociale|Dossier unique pour les aides sociales|Les familles déposent le même justificatif pour chaque aide.|Un dossier numérique unique, complété une fois, partagé entre services."
  "Nicolas Bernard|Direction des routes|Signalement des nids-de-poule en ligne|Les signalements arrivent par courrier, sans suivi pour l'usager.|Un formulaire avec photo et géolocalisation, et un suivi par SMS."
  "Sophie Laurent|Direction des collèges|Inscription à la cantine sans papier|Les inscriptions papier se perdent entre collège et département.|Une inscription en ligne reliée au quotient familial déjà connu."
  "Karim Haddad|Direction de l'autonomie|Suivi en ligne des demandes APA|Les personnes âgées appellent pour savoir où en est leur dossier.|Un suivi consultable en ligne et par téléphone vocal."
  "Julie Petit|Ressources humaines|Dématérialiser les ordres de mission|Chaque déplacement demande trois signatures papier.|Un circuit de validation en ligne avec délégation."
  "Thomas Moreau|Direction des systèmes d'information|Annuaire des API internes|Chaque service redéveloppe les mêmes accès aux données.|Un catalogue des API internes, documentées et réutilisables."
  "Léa Fournier|Direction de l'enfance|Rendez-vous PMI sans téléphoner|Les lignes de PMI sont saturées le matin.|La prise de rendez-vous en ligne, avec rappel par SMS."
  "Mehdi Benali|Direction des transports|Carte scolaire dématérialisée|Les cartes de transport scolaire sont imprimées et envoyées chaque année.|Une carte sur téléphone, renouvelée automatiquement."
  "Claire Dubois|Direction de l'environnement|Déclaration des dépôts sauvages|Les maires signalent les dépôts par courriel, sans suivi commun.|Une carte partagée des signalements entre communes et département."
  "Antoine Garnier|Direction des finances|Paiement en ligne des factures de cantine|Les familles paient par chèque au guichet.|Le paiement en ligne et le prélèvement automatique."
  "Inès Rousseau|Direction de la culture|Réservation des salles des archives|Les chercheurs réservent par courrier.|Un agenda en ligne des places en salle de lecture."
  "Paul Lefèvre|Direction des bâtiments|Signalement des pannes dans les collèges|Les pannes passent par trois intermédiaires avant réparation.|Un ticket unique visible par le collège et le technicien."
  "Sarah Mercier|Direction de l'insertion|Agenda partagé des ateliers RSA|Les bénéficiaires apprennent les ateliers trop tard.|Un agenda en ligne avec inscription et rappel."
  "Hugo Lambert|Direction des sports|Subventions aux clubs en ligne|Les dossiers de subvention sont incomplets une fois sur deux.|Un formulaire guidé qui vérifie les pièces au dépôt."
  "Emma Girard|Direction de l'action sociale|Simulateur des droits aux aides|Les usagers ne savent pas à quelles aides ils ont droit.|Un simulateur simple qui oriente vers la bonne démarche."
  "Lucas Bonnet|Direction des routes|Information trafic des routes départementales|Les fermetures de routes sont annoncées sur des pages dispersées.|Un flux unique des fermetures, réutilisable par les applications GPS."
  "Chloé François|Direction de la communication|Langage clair dans les courriers|Les courriers administratifs sont incompris.|Un guide et une relecture des modèles de courrier."
  "Yanis Chevalier|Direction de l'autonomie|Transport adapté réservable en ligne|La réservation du transport adapté se fait 48 h à l'avance par téléphone.|Une réservation en ligne avec confirmation immédiate."
  "Manon Robin|Direction des collèges|Prêt de matériel numérique aux collégiens|Les familles ne savent pas comment emprunter un ordinateur.|Une demande en ligne et un suivi du prêt."
)
ids=()
n=0
for line in "${IDEAS[@]}"; do
  IFS='|' read -r author dept title problem proposal <<< "$line"
  n=$((n + 1))
  agent="agent-$(printf '%04d' $((n * 137 % 9000)))"
  tok=$(token agent "$agent")
  ids+=("$(api POST "/v1/challenges/$challenge/ideas" "$tok" "$(jq -nc --arg a "$author" --arg d "$dept" \
    --arg t "$title" --arg p "$problem" --arg q "$proposal" --arg e "$agent@departement06.fr" \
    '{title:$t, problem:$p, proposal:$q, author_name:$a, department:$d, contact_email:$e}')" | jq -r .idea.id)")
done
# The jury scores every idea; scores vary by idea and juror, so the ranking means something.
j=0
for juror in "${jurors[@]}"; do
  j=$((j + 1))
  tok=$(token juror "$juror")
  i=0
  for id in "${ids[@]}"; do
    i=$((i + 1))
    impact=$(( (i * 7 + j * 3) % 6 )); feas=$(( (i * 5 + j) % 6 )); cost=$(( (i + j * 2) % 6 ))
    [[ $i -le 3 ]] && impact=5 && feas=$((4 + (i + j) % 2))   # the three future laureates
    api POST "/v1/ideas/$id/scores" "$tok" "{\"scores\":[{\"criterion\":\"impact usagers\",\"score\":$impact},
      {\"criterion\":\"faisabilité\",\"score\":$feas},{\"criterion\":\"coût\",\"score\":$cost}],
      \"comment\":\"Évaluation du jury\"}" > /dev/null
  done
done
decide() {  # IDEA STATUS RATIONALE [PRIZE]
  api POST "/v1/ideas/$1:decide" "$COORD" "$(jq -nc --arg s "IDEA_STATUS_$2" --arg r "$3" --arg p "${4:-}" \
    '{decision:$s, rationale:$r, prize:$p}')" > /dev/null
}
prizes=("1er prix" "2e prix" "3e prix")
for k in 0 1 2; do
  decide "${ids[$k]}" SHORTLISTED "Présélectionnée par le jury"
  decide "${ids[$k]}" AWARDED "Lauréate du défi" "${prizes[$k]}"
done
decide "${ids[3]}" SHORTLISTED "Présélectionnée par le jury"
decide "${ids[18]}" REJECTED "Déjà couvert par un dispositif national"
for k in 0 1; do decide "${ids[$k]}" SELECTED_FOR_EXPERIMENTATION "Expérimentation en start-up d'État"; done
echo "seed-demo: challenge $challenge, 19 ideas, 5 jurors, 3 prizes, 2 selected" >&2

report=$(curl -sS -X POST -H "Authorization: Bearer $COORD" -H 'Content-Type: application/x-ndjson' \
  --data-binary "@$HERE/demo-portfolio.jsonl" "$URL/v1/imports/portfolio")
echo "seed-demo: portfolio import $(jq -c '{read,created,rejected}' <<< "$report")" >&2

# pep-incubation opens the two start-ups from the IdeaSelected events.
startup=""
for _ in $(seq 1 120); do
  startup=$(api GET /v1/startups "$COORD" | jq -r --arg o "${ids[0]}" '.startups[] | select(.origin_idea_id == $o) | .id')
  [[ -n "$startup" ]] && break
  sleep 0.5
done
[[ -n "$startup" ]] || { echo "seed-demo: the selected idea never became a start-up" >&2; exit 1; }
decision=$(api POST "/v1/startups/$startup/committee-decisions" "$COORD" "$(jq -nc --arg d "$(date -u +%Y-%m-%dT00:00:00Z)" \
  '{date:$d, outcome:"COMMITTEE_OUTCOME_GO", rationale:"Problème confirmé auprès de 40 familles",
    participants:["DGS","Direction de l'\''action sociale","LAB06"]}')" | jq -r .id)
api POST "/v1/startups/$startup:change-phase" "$COORD" "{\"to\":\"PHASE_CONSTRUCTION\",\"decision_id\":\"$decision\"}" > /dev/null
team=$(token product_team ci-dossier-unique "startup:$startup")
PEP_URL="$URL" PEP_TOKEN="$team" "$PEPCTL" milestone push --startup "$startup" --title "Première démarche en ligne" \
  --kind product_launch --idempotency-key demo-release-1 >&2
PEP_URL="$URL" PEP_TOKEN="$team" "$PEPCTL" milestone push --startup "$startup" --title "100 familles accompagnées" \
  --kind users_reached --idempotency-key demo-users-100 >&2

# Issue 30: the start-up in the open. The selected one with every part, the imported ones with
# what beta.gouv.fr shows of them; then the open data is checked against beta.gouv.fr's
# OpenAPI document by the independent validator (jsonschema, from install-deps), as CI does.
publish() {  # STARTUP_ID POLICY_JSON
  api PUT "/v1/startups/$1/publication" "$COORD" "{\"policy\":$2}" > /dev/null
}
publish "$startup" '{"published":true,"mission":true,"phases":true,"events":true,"team":true,"sponsors":true,"links":true,"thematiques":true}'
n=0
for id in $(api GET /v1/startups "$COORD" | jq -r --arg s "$startup" '.startups[] | select(.id != $s and .origin_idea_id == "") | .id'); do
  publish "$id" '{"published":true,"mission":true,"phases":true,"events":true,"sponsors":true,"links":true,"thematiques":true}'
  n=$((n + 1))
done
od=$(mktemp -d)
for f in startups.json startups_details.json startups.csv incubators.json sponsors.json; do
  curl -fsS "$URL/api/v2.7/$f" -o "$od/$f"
done
JS_PY="${PEP_CACHE_DIR:-$HOME/.cache/pepiniere}/jsonschema-4.26.0/bin/python"
"$JS_PY" "$HERE/../../../tests/opendata/validate.py" "$HERE/../../../tests/data/betagouv-api-v2.7.swagger.json" "$od" >&2 \
  || { echo "seed-demo: the open data does not validate against beta.gouv.fr's API v2.7" >&2; exit 1; }
rm -rf "$od"
echo "seed-demo: $((n + 1)) start-ups published; open data valid against beta.gouv.fr's API v2.7" >&2

answer() {  # SATISFACTION NPS VERBATIM (public: no token)
  api POST "/v1/startups/$startup/feedback" "" "$(jq -nc --arg s "$1" --argjson n "$2" --arg v "$3" \
    '{satisfaction:$s, nps:$n, verbatim:$v, clarity:4, help:[{channel:"HELP_CHANNEL_NO_HELP_NEEDED"}]}')" > /dev/null
}
for _ in $(seq 1 120); do  # until pep-feedback has read that the product is in construction
  if answer SATISFACTION_GOOD 10 "Tout mon dossier en une fois, enfin." 2>/dev/null; then
    answer SATISFACTION_GOOD 9 "Simple. Mon numéro si besoin : 06 12 34 56 78."
    answer SATISFACTION_MEDIUM 7 "Il manquait la pièce pour la bourse."
    answer SATISFACTION_GOOD 8 ""
    echo "seed-demo: start-up $startup in construction, 2 milestones, 4 answers" >&2
    exit 0
  fi
  sleep 0.5
done
echo "seed-demo: pep-feedback never accepted feedback" >&2
exit 1
