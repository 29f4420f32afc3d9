#!/usr/bin/env bash
# Seeds the LAB06 demo on a fresh data dir: a "simplification administrative" challenge with a
# jury and agents' ideas, one idea scored and selected (pep-incubation opens its start-up from
# the event), and a small imported portfolio.
# and users' feedback on the imported start-up already in acceleration.
# Usage: seed-demo.sh GRPCURL IDEAS_HOST:PORT INCUBATION_HOST:PORT FEEDBACK_HOST:PORT
set -euo pipefail
G="$1"; IDEAS="$2"; INCUBATION="$3"; FEEDBACK="$4"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
call() {  # actor roles method json
  "$G" -plaintext -H "x-pep-actor: $1" -H "x-pep-roles: $2" -d "$4" "$IDEAS" \
    "pepiniere.ideas.v1.IdeaService/$3"
}
challenge=$(call coord-lab06 coordinator CreateChallenge '{
  "title": "Simplification administrative 2026",
  "theme": "simplification",
  "description": "Défi interne du LAB06 : vos idées pour simplifier les démarches des usagers et des agents.",
  "criteria": [{"name": "impact usagers", "weight": 3}, {"name": "faisabilité", "weight": 2},
               {"name": "coût", "weight": 1}],
  "jury_quorum": 2}' | jq -r .id)
call coord-lab06 coordinator OpenChallenge "{\"challenge_id\":\"$challenge\"}" > /dev/null
call coord-lab06 coordinator AssignJurors \
  "{\"challenge_id\":\"$challenge\",\"juror_ids\":[\"jury-dgs\",\"jury-dsi\",\"jury-usagers\"]}" > /dev/null
submit() {  # actor name department title problem proposal -> idea id
  call "$1" agent SubmitIdea "$(jq -n --arg c "$challenge" --arg n "$2" --arg d "$3" --arg t "$4" \
    --arg p "$5" --arg q "$6" '{challenge_id:$c, author_name:$n, department:$d, title:$t,
      problem:$p, proposal:$q, contact_email:"agent@departement06.fr"}')" | jq -r .idea.id
}
first=$(submit agent-0412 "Camille Martin" "Direction de l'action sociale" \
  "Dossier unique pour les aides sociales" \
  "Les familles déposent le même justificatif pour chaque aide départementale." \
  "Un dossier numérique unique, partagé entre les services, que l'usager complète une fois.")
submit agent-1187 "Nicolas Bernard" "Direction des routes" \
  "Signalement des nids-de-poule en ligne" \
  "Les signalements arrivent par courrier et téléphone, sans suivi pour l'usager." \
  "Un formulaire en ligne avec photo et géolocalisation, et un suivi par SMS." > /dev/null
submit agent-2290 "Sophie Laurent" "Direction des collèges" \
  "Inscription à la cantine sans papier" \
  "Les inscriptions papier se perdent entre le collège et le département." \
  "Une inscription en ligne reliée au quotient familial déjà connu." > /dev/null
for juror in jury-dgs jury-usagers; do
  call "$juror" juror ScoreIdea "{\"idea_id\":\"$first\",\"scores\":[
    {\"criterion\":\"impact usagers\",\"score\":5},{\"criterion\":\"faisabilité\",\"score\":4},
    {\"criterion\":\"coût\",\"score\":3}],\"comment\":\"Gain net pour les familles\"}" > /dev/null
done
for decision in SHORTLISTED SELECTED_FOR_EXPERIMENTATION; do
  call coord-lab06 coordinator DecideIdea "{\"idea_id\":\"$first\",\"decision\":\"IDEA_STATUS_$decision\",
    \"rationale\":\"Retenue par le jury du défi\"}" > /dev/null
done
"$G" -plaintext -H "x-pep-actor: coord-lab06" -H "x-pep-roles: coordinator" \
  -d "$(jq -n --rawfile l "$HERE/demo-portfolio.jsonl" '{jsonl:$l}')" "$INCUBATION" \
  pepiniere.incubation.v1.IncubationService/ImportPortfolio | jq -c '{read,created,rejected,warningsByRule}' >&2
echo "seed-demo: challenge $challenge with 3 ideas; idea $first selected for experimentation" >&2

# Feedback opens once pep-feedback has read the start-up's events: wait for it, then answer.
voirie=$("$G" -plaintext -d '{"startup_id":"signalement-voirie"}' "$INCUBATION" \
  pepiniere.incubation.v1.IncubationService/GetStartup | jq -r .startup.id)
answer() {  # client satisfaction clarity nps verbatim
  "$G" -plaintext -H "x-pep-actor: public" -H "x-pep-client-key: $1" -d "$(jq -n --arg s "$voirie" \
    --arg sat "$2" --argjson c "$3" --argjson n "$4" --arg v "$5" \
    '{startup_id:$s, satisfaction:$sat, clarity:$c, nps:$n, verbatim:$v,
      help:[{channel:"HELP_CHANNEL_NO_HELP_NEEDED"}]}')" "$FEEDBACK" \
    pepiniere.feedback.v1.FeedbackService/SubmitFeedback > /dev/null
}
for _ in $(seq 1 120); do
  if answer demo-1 SATISFACTION_GOOD 5 10 "Signalement fait en deux minutes, photo comprise." 2>/dev/null; then
    answer demo-2 SATISFACTION_GOOD 4 9 "Pratique. Rappelez-moi au 06 12 34 56 78 si besoin."
    answer demo-3 SATISFACTION_MEDIUM 3 7 "Le suivi par SMS n'est pas arrivé."
    echo "seed-demo: 3 feedback answers on signalement-voirie" >&2
    exit 0
  fi
  sleep 0.5
done
echo "seed-demo: pep-feedback never accepted feedback for signalement-voirie" >&2
exit 1
