// Every enum the API speaks, in French: the console never shows a raw value.

const ROLE_LABELS = { coordinator: 'Coordination', juror: 'Juré', product_team: "Membre de l'équipe", agent: 'Agent' };
const PHASES = {
  PHASE_INVESTIGATION: 'Investigation', PHASE_CONSTRUCTION: 'Construction',
  PHASE_ACCELERATION: 'Accélération', PHASE_CONSOLIDATION: 'Consolidation',
  PHASE_TRANSFERRED: 'Transférée', PHASE_OPERATED: 'Opérée',
  PHASE_ABANDONED_IN_INVESTIGATION: 'Abandonnée (investigation)', PHASE_ABANDONED: 'Abandonnée',
};
// GetPortfolioStats keys its counts by the short name ("CONSTRUCTION").
const phaseOfStatsKey = (k) => 'PHASE_' + k;
// The beta.gouv.fr model, as pep-incubation enforces it (incubation_core.cc TransitionAllowed).
const NEXT_PHASES = {
  PHASE_INVESTIGATION: ['PHASE_CONSTRUCTION', 'PHASE_ABANDONED_IN_INVESTIGATION'],
  PHASE_CONSTRUCTION: ['PHASE_ACCELERATION', 'PHASE_ABANDONED'],
  PHASE_ACCELERATION: ['PHASE_CONSOLIDATION', 'PHASE_ABANDONED'],
  PHASE_CONSOLIDATION: ['PHASE_TRANSFERRED', 'PHASE_OPERATED', 'PHASE_ABANDONED'],
};
const ABANDON = new Set(['PHASE_ABANDONED', 'PHASE_ABANDONED_IN_INVESTIGATION']);
const OUTCOMES = {
  COMMITTEE_OUTCOME_GO: 'GO (passage à la phase suivante)', COMMITTEE_OUTCOME_EXTEND: 'Prolongation de la phase',
  COMMITTEE_OUTCOME_PIVOT: 'Pivot', COMMITTEE_OUTCOME_STOP: 'STOP (abandon)',
  COMMITTEE_OUTCOME_UNSPECIFIED: 'Décision non renseignée',
};
const MILESTONE_KINDS = {
  MILESTONE_KIND_PRODUCT_LAUNCH: 'Mise en production', MILESTONE_KIND_USERS_REACHED: 'Usagers atteints',
  MILESTONE_KIND_KPI: 'Indicateur', MILESTONE_KIND_FUNDING: 'Financement', MILESTONE_KIND_TEAM: 'Équipe',
  MILESTONE_KIND_OTHER: 'Autre', MILESTONE_KIND_UNSPECIFIED: 'Non précisé',
};
const IDEA_STATUS = {
  IDEA_STATUS_DRAFT: 'Brouillons', IDEA_STATUS_SUBMITTED: 'Déposées', IDEA_STATUS_SHORTLISTED: 'Présélectionnées',
  IDEA_STATUS_AWARDED: 'Primées', IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION: 'Retenues',
  IDEA_STATUS_REJECTED: 'Écartées', IDEA_STATUS_WITHDRAWN: 'Retirées', IDEA_STATUS_MERGED: 'Regroupées',
};
const IDEA_STATUS_ONE = {
  IDEA_STATUS_DRAFT: 'Brouillon', IDEA_STATUS_SUBMITTED: 'Déposée', IDEA_STATUS_SHORTLISTED: 'Présélectionnée', IDEA_STATUS_AWARDED: 'Primée',
  IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION: 'Retenue pour expérimentation', IDEA_STATUS_REJECTED: 'Écartée',
  IDEA_STATUS_WITHDRAWN: 'Retirée', IDEA_STATUS_MERGED: 'Regroupée avec une autre',
};
// Evaluation stages, in their order.
const STAGES = {
  STAGE_KIND_ELIGIBILITY: 'Recevabilité', STAGE_KIND_SCORING: 'Notation par le jury',
  STAGE_KIND_AUDITION: 'Audition', STAGE_KIND_DECISION: 'Décision',
};
// A link read from this idea's side: [kind, inverse] → words.
const linkWords = (kind, inverse) => ({
  LINK_KIND_SIMILAR: 'Semblable à',
  LINK_KIND_PART_OF: inverse ? 'Comprend' : 'Fait partie de',
  LINK_KIND_COMPLEMENTS: inverse ? 'Est complétée par' : 'Complète',
}[kind] || 'Liée à');
const LINK_KINDS = { LINK_KIND_SIMILAR: 'Semblable à', LINK_KIND_PART_OF: 'Fait partie de', LINK_KIND_COMPLEMENTS: 'Complète' };
const CHALLENGE_STATUS = {
  CHALLENGE_STATUS_DRAFT: 'Brouillon', CHALLENGE_STATUS_OPEN: 'Ouvert', CHALLENGE_STATUS_CLOSED: 'Clos',
};
const BANDS = {
  BAND_GREEN: ['Bon', 'success'], BAND_YELLOW: ['Moyen', 'new'], BAND_RED: ['Insuffisant', 'error'],
  BAND_INSUFFICIENT_DATA: ['Données insuffisantes', 'info'],
};
const SORTS = {
  name: 'Nom', phase: 'Phase', incubator: 'Incubateur', phase_since: 'Date d\'entrée dans la phase',
  last_milestone_at: 'Dernier jalon', created_at: 'Date de création',
};
// Who reads a challenge's ideas.
const VISIBILITY = {
  VISIBILITY_JURY: 'Le jury seulement (et chaque auteur·e, ses idées)',
  VISIBILITY_AGENTS: 'Tous les agents : ils lisent, soutiennent et suivent les idées',
};
const word = (table, key) => table[key] || key || '';

// pep-incubation's overdue reasons (precise English for the API) in French for people.
function overdueWords(reason) {
  let m = /^phase (\w+) has run past its expected (\d+) months$/.exec(reason);
  if (m) return `phase ${word(PHASES, 'PHASE_' + m[1]).toLowerCase()} au-delà de ses ${m[2]} mois prévus`;
  if ((m = /^no milestone for (\d+) months$/.exec(reason))) return `aucun jalon depuis ${m[1]} mois`;
  if ((m = /^committee due since (\d{4})-(\d{2})-(\d{2})$/.exec(reason))) return `comité dû depuis le ${m[3]}/${m[2]}/${m[1]}`;
  if ((m = /^envelope exceeded: (\d+) of (\d+) euros paid$/.exec(reason))) {
    return `enveloppe dépassée : ${Number(m[1]).toLocaleString('fr-FR')} € payés sur ${Number(m[2]).toLocaleString('fr-FR')} €`;
  }
  if ((m = /^envelope runs out on (\d{4})-(\d{2})-(\d{2})$/.exec(reason))) return `enveloppe épuisée le ${m[3]}/${m[2]}/${m[1]} au rythme actuel`;
  return reason;
}

// A team member's kind of role and status (issue 31), as beta.gouv's member space lists them.
const TEAM_ROLES = {
  TEAM_ROLE_INTRAPRENEUR: 'Intrapreneur', TEAM_ROLE_COACH: 'Coach', TEAM_ROLE_DEVELOPPEMENT: 'Développement',
  TEAM_ROLE_DESIGN: 'Design', TEAM_ROLE_DEPLOIEMENT: 'Déploiement', TEAM_ROLE_DATA: 'Data', TEAM_ROLE_SPONSOR: 'Sponsor',
};
const MEMBER_STATUS = {
  MEMBER_STATUS_AGENT: 'Agent public', MEMBER_STATUS_CONTRACTOR: 'Prestataire', MEMBER_STATUS_INDEPENDENT: 'Indépendant',
};
// The team's « signaux faibles » (TeamSignal codes), the filter's words.
const TEAM_SIGNALS = {
  no_intrapreneur: 'Sans intrapreneur', no_coach: 'Sans coach', mission_ending: 'Mission qui finit sous 15 jours',
  mission_ended: 'Mission finie, membre toujours listé', turnover: 'Rotation forte (6 mois)',
};
// One signal in a sentence; `team` names the member it is about.
function teamSignalWords(sig, team = []) {
  const who = (team.find((m) => m.id === sig.member_id) || {}).name || 'un membre';
  const day = sig.date ? new Date(sig.date).toLocaleDateString('fr-FR', { timeZone: 'UTC' }) : '';
  switch (sig.code) {
    case 'no_intrapreneur': return 'aucun intrapreneur dans l’équipe';
    case 'no_coach': return 'aucun coach dans l’équipe';
    case 'mission_ending': return `la mission de ${who} finit le ${day}`;
    case 'mission_ended': return `la mission de ${who} a fini le ${day}, toujours dans l’équipe`;
    case 'turnover': return `${sig.count} départs en six mois`;
    default: return TEAM_SIGNALS[sig.code] || 'signal inconnu';
  }
}

export {
  MEMBER_STATUS, TEAM_ROLES, TEAM_SIGNALS, teamSignalWords,
  ABANDON, BANDS, CHALLENGE_STATUS, IDEA_STATUS, IDEA_STATUS_ONE, MILESTONE_KINDS,
  LINK_KINDS, NEXT_PHASES, OUTCOMES, PHASES, ROLE_LABELS, SORTS, STAGES, VISIBILITY, linkWords,
  overdueWords, phaseOfStatsKey, word,
};
