// A start-up's budget (issue 31): the envelope its last committee granted, what was committed
// (AE, an order signed) and paid (CP, an invoice paid) since, what remains and when it runs out at
// the current pace; every entry; the form to record one (the team or the coordinators).
import { api, idempotencyKey } from './api.js';
import { render } from './main.js';
import { alertBox, dataTable, date, esc, field, int, onSubmit, select, submit, toast } from './ui.js';

const KINDS = { BUDGET_KIND_COMMITMENT: 'Engagement (AE : bon de commande signé)', BUDGET_KIND_PAYMENT: 'Paiement (CP : facture payée)' };
const RESOURCES = {
  RESOURCE_KIND_SERVICES: 'Prestations (développement, design, déploiement…)', RESOURCE_KIND_STAFF: 'Agents publics (titre 2)',
  RESOURCE_KIND_COACHING: 'Coaching', RESOURCE_KIND_HOSTING: 'Hébergement et outils', RESOURCE_KIND_OTHER: 'Autre',
};
const eur = (v) => `${int(v)} €`;

async function budgetSection(s, canEdit) {
  const b = await api('GET', `/v1/startups/${encodeURIComponent(s.id)}/budget`).catch(() => null);
  if (!b) return '';
  const st = b.state || {};
  const summary = st.envelope_eur
    ? `<p id="budget-summary">Enveloppe en cours : <strong>${eur(st.envelope_eur)}</strong> depuis le ${date(st.since)} — engagé ${eur(st.committed_eur)},
       payé ${eur(st.paid_eur)}, reste <strong>${eur(b.remaining_eur)}</strong>${b.runs_out ? ` ; épuisée le ${date(b.runs_out)} au rythme actuel (${eur(Math.round((b.paid_per_day_eur || 0) * 30))} par mois)` : ''}.</p>
       ${b.exceeded ? alertBox('error', "Les paiements dépassent l'enveloppe accordée par le comité.", 'Enveloppe dépassée') : ''}
       ${b.overcommitted ? alertBox('warning', "Les engagements dépassent l'enveloppe accordée par le comité.", 'Engagements au-delà de l’enveloppe') : ''}`
    : `<p id="budget-summary">Aucune enveloppe accordée par un comité${st.paid_eur || st.committed_eur ? ` ; engagé ${eur(st.committed_eur)}, payé ${eur(st.paid_eur)}` : ''}.</p>`;
  const table = dataTable('Engagements et paiements', ['Date', 'Nature', 'Ressource', 'Montant', 'Libellé'],
    (b.entries || []).map((e) => [date(e.date), esc(e.kind === 'BUDGET_KIND_PAYMENT' ? 'CP' : 'AE'), esc(RESOURCES[e.resource] || e.resource),
      eur(e.amount_eur), esc(e.label)]), 'budget-entries');
  const form = canEdit ? `<form id="budget-entry" class="pep-form fr-mt-3w"><h3>Enregistrer un engagement ou un paiement</h3>
    ${select('b-kind', 'Nature', 'kind', Object.entries(KINDS))}
    ${select('b-resource', 'Ressource', 'resource', Object.entries(RESOURCES))}
    ${field('b-amount', 'Montant (euros)', { name: 'amount_eur', type: 'number', required: true, attrs: 'min="1" step="1"' })}
    ${field('b-date', 'Date (du bon de commande ou du paiement)', { name: 'date', type: 'date', value: new Date().toISOString().slice(0, 10), required: true })}
    ${field('b-label', 'Libellé', { name: 'label', hint: 'Par exemple : facture n° 42, développement du lot 1' })}
    ${submit("Enregistrer l'écriture")}</form>` : '';
  return `<h2 class="fr-mt-4w" id="budget">Budget</h2>${summary}${table}${form}`;
}

function wireBudget(s) {
  const form = document.getElementById('budget-entry');
  if (!form) return;
  onSubmit(form, async (f) => {
    await api('POST', `/v1/startups/${encodeURIComponent(s.id)}/budget`, {
      kind: f.get('kind'), resource: f.get('resource'), amount_eur: Number(f.get('amount_eur')), label: f.get('label'),
      date: new Date(f.get('date') + 'T12:00:00Z').toISOString(), idempotency_key: idempotencyKey('console-'),
    });
    toast('Écriture enregistrée');
    render();
  });
}

export { budgetSection, wireBudget };
