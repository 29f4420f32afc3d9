#!/usr/bin/env bash
# Seeds the LAB06 demo on a fresh data dir: a "simplification administrative" challenge, open,
# with a jury and a few agents' ideas. Usage: seed-demo.sh GRPCURL HOST:PORT
set -euo pipefail
G="$1"; ADDR="$2"
call() {  # actor roles method json
  "$G" -plaintext -H "x-pep-actor: $1" -H "x-pep-roles: $2" -d "$4" "$ADDR" \
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
submit() {  # actor name department title problem proposal
  call "$1" agent SubmitIdea "$(jq -n --arg c "$challenge" --arg n "$2" --arg d "$3" --arg t "$4" \
    --arg p "$5" --arg q "$6" '{challenge_id:$c, author_name:$n, department:$d, title:$t,
      problem:$p, proposal:$q, contact_email:"agent@departement06.fr"}')" > /dev/null
}
submit agent-0412 "Camille Martin" "Direction de l'action sociale" \
  "Dossier unique pour les aides sociales" \
  "Les familles déposent le même justificatif pour chaque aide départementale." \
  "Un dossier numérique unique, partagé entre les services, que l'usager complète une fois."
submit agent-1187 "Nicolas Bernard" "Direction des routes" \
  "Signalement des nids-de-poule en ligne" \
  "Les signalements arrivent par courrier et téléphone, sans suivi pour l'usager." \
  "Un formulaire en ligne avec photo et géolocalisation, et un suivi par SMS."
submit agent-2290 "Sophie Laurent" "Direction des collèges" \
  "Inscription à la cantine sans papier" \
  "Les inscriptions papier se perdent entre le collège et le département." \
  "Une inscription en ligne reliée au quotient familial déjà connu."
echo "seed-demo: challenge $challenge opened with 3 ideas" >&2
