// The flows around an idea (issue 29): a challenge's evaluation calendar and relais, and on an
// idea its stage and clock, eligibility, the jury's questions and the authors' answers, links,
// merges (the lineage, the pointer, undo) and who filed it for whom.
import { api } from './api.js';
import { render } from './main.js';
import { has, me } from './session.js';
import { alertBox, dataTable, esc, field, longDate, onSubmit, select, submit, toast } from './ui.js';
import { IDEA_STATUS_ONE, LINK_KINDS, STAGES, linkWords, word } from './words.js';

const when = (ts) => (ts ? new Date(ts).toLocaleString('fr-FR', { dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/Paris' }) : '');
const localInput = (ts) => {  // an <input type="datetime-local"> value, in the browser's time
  if (!ts) return '';
  const d = new Date(ts);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
};
const enc = encodeURIComponent;

// Signed-in people, for coordinators to name relais and reviewers by e-mail or name.
async function accounts() {
  if (!has('coordinator')) return [];
  try { return (await api('GET', '/v1/accounts')).accounts || []; } catch (e) { return []; }
}
const nameOf = (list, id) => { const a = list.find((x) => x.id === id); return a ? (a.display_name || a.email) : id; };
// « a@b.fr, Karim Benali » → account ids; an unknown one is an error naming the field.
function resolve(text, list, fieldName) {
  return String(text || '').split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    const low = s.toLowerCase();
    const a = list.find((x) => (x.email || '').toLowerCase() === low || (x.display_name || '').toLowerCase() === low || x.id === s);
    if (!a) throw new Error(`${fieldName}: « ${s} » n'a pas encore de compte (la personne doit s'être connectée une fois)`);
    return a.id;
  });
}

// --- The challenge page ---

function calendar(c, people) {
  const stages = c.stages || [];
  if (!stages.length) return '';
  return `<h2 class="fr-mt-4w">Calendrier de l'évaluation</h2>${dataTable("Étapes de l'évaluation", ['Étape', 'Du', 'Au', 'Évaluateurs'],
    stages.map((s) => [esc(word(STAGES, s.kind)), esc(when(s.starts_at)), esc(when(s.ends_at)),
      (s.reviewer_ids || []).length ? esc((s.reviewer_ids || []).map((id) => nameOf(people, id)).join(', '))
        : s.kind === 'STAGE_KIND_ELIGIBILITY' || s.kind === 'STAGE_KIND_DECISION' ? 'la coordination' : 'tout le jury']), 'stages')}
    <p class="fr-text--sm">Quand le jury demande une précision à ses auteurs, l'horloge de l'idée s'arrête : l'étape dure d'autant plus longtemps pour elle.</p>`;
}

function challengeForms(c, people) {
  if (!has('coordinator')) return '';
  const at = (k) => (c.stages || []).find((s) => s.kind === k);
  const rows = Object.entries(STAGES).map(([k, label], n) => {
    const s = at(k);
    const reviewers = s ? (s.reviewer_ids || []).map((id) => { const a = people.find((x) => x.id === id); return a ? a.email : id; }).join(', ') : '';
    return `<fieldset class="fr-fieldset pep-stage" data-kind="${k}"><legend class="fr-fieldset__legend">${esc(label)}</legend>
      <div class="fr-checkbox-group"><input type="checkbox" id="st-${n}-on" name="on"${s || k === 'STAGE_KIND_SCORING' ? ' checked' : ''}>
        <label class="fr-label" for="st-${n}-on">Prévoir cette étape</label></div>
      ${field(`st-${n}-from`, 'Début', { name: 'from', type: 'datetime-local', value: localInput(s?.starts_at) })}
      ${field(`st-${n}-to`, 'Fin', { name: 'to', type: 'datetime-local', value: localInput(s?.ends_at) })}
      ${k === 'STAGE_KIND_DECISION' ? '' : field(`st-${n}-who`, 'Évaluateurs (courriels ou noms, séparés par des virgules)', {
    name: 'who', value: reviewers,
    hint: k === 'STAGE_KIND_ELIGIBILITY' ? 'Vide : la coordination vérifie' : 'Des membres du jury ; vide : tout le jury' })}</fieldset>`;
  }).join('');
  return `<form id="stages" class="pep-form"><h2 class="fr-h6">Étapes de l'évaluation</h2>${rows}
      ${submit('Enregistrer le calendrier')}</form>
    <form id="relays" class="pep-form"><h2 class="fr-h6">Relais</h2>
      ${field('relays-who', 'Relais du défi (courriels ou noms, séparés par des virgules)', {
    name: 'who', value: (c.relay_ids || []).map((id) => { const a = people.find((x) => x.id === id); return a ? a.email : id; }).join(', '),
    hint: "Ils déposent des idées pour des collègues sans poste informatique (routes, collèges) ; le collègue la retrouve en se connectant avec l'adresse donnée." })}
      ${submit('Enregistrer les relais')}</form>`;
}

// The relais' box in the submission form: filed for a colleague, whose details are then asked.
const isRelay = (c) => has('coordinator') || (c.relay_ids || []).includes(me.actor);
const onBehalfBox = (c) => (isRelay(c) ? `<div class="fr-checkbox-group fr-mt-2w"><input type="checkbox" id="i-behalf" name="on_behalf">
  <label class="fr-label" for="i-behalf">Je dépose pour un·e collègue (relais)<span class="fr-hint-text">Donnez alors son nom, son service et son courriel : l'idée sera la sienne dès sa première connexion.</span></label></div>` : '');

function wireChallenge(c, people) {
  const stages = document.getElementById('stages');
  if (stages) onSubmit(stages, async () => {
    const list = [];
    for (const fs of stages.querySelectorAll('fieldset.pep-stage')) {
      if (!fs.querySelector('[name=on]').checked) continue;
      const label = word(STAGES, fs.dataset.kind);
      const from = new Date(fs.querySelector('[name=from]').value);
      const to = new Date(fs.querySelector('[name=to]').value);
      if (isNaN(from) || isNaN(to)) throw new Error(`stages: « ${label} » demande un début et une fin`);
      const who = fs.querySelector('[name=who]');
      list.push({ kind: fs.dataset.kind, starts_at: from.toISOString(), ends_at: to.toISOString(),
        reviewer_ids: who ? resolve(who.value, people, 'stages') : [] });
    }
    await api('PUT', `/v1/challenges/${enc(c.id)}/stages`, { stages: list });
    toast("Calendrier de l'évaluation enregistré");
    render();
  });
  const relays = document.getElementById('relays');
  if (relays) onSubmit(relays, async (f) => {
    await api('PUT', `/v1/challenges/${enc(c.id)}/relays`, { relay_ids: resolve(f.get('who'), people, 'relay_ids') });
    toast('Relais enregistrés');
    render();
  });
}

// --- The idea page ---

const reviewing = (i) => i.status === 'IDEA_STATUS_SUBMITTED' || i.status === 'IDEA_STATUS_SHORTLISTED';
const openQuestion = (i) => { const q = (i.clarifications || []).at(-1); return q && !q.answered_at ? q : null; };

function ideaSection(i, c, others, isAuthor) {
  const coord = has('coordinator');
  const stage = (c.stages || []).find((s) => s.kind === i.stage);
  const reviewer = stage && (stage.reviewer_ids || []).includes(me.actor);
  const onJury = (c.juror_ids || []).includes(me.actor);
  const out = [];
  if (i.status === 'IDEA_STATUS_MERGED') {
    out.push(`<div class="fr-alert fr-alert--info fr-alert--sm fr-mb-2w" role="status"><p>Cette idée a été regroupée avec une autre :
      la discussion, les soutiens et l'examen continuent sur <a href="/idees/${esc(i.merged_into)}">l'idée qui la réunit</a>.</p></div>`);
    if (coord) out.push('<p><button type="button" id="undo-merge" class="fr-btn fr-btn--tertiary fr-btn--sm">Annuler ce regroupement</button></p>');
  }
  if (i.filed_by) out.push(`<p class="fr-text--sm" id="filed-by">Déposée par un relais${i.awaiting_claim ? ` pour ${esc(i.author_name)}, qui la retrouvera en se connectant avec son adresse professionnelle` : ''}.</p>`);
  if (i.stage && reviewing(i)) {
    const late = stage && i.stage_ends_at && new Date(i.stage_ends_at) > new Date(stage.ends_at);
    out.push(`<p id="stage">Étape : <strong>${esc(word(STAGES, i.stage))}</strong>, jusqu'au ${esc(when(i.stage_ends_at))}${late ? " (prolongée pour cette idée : l'horloge s'est arrêtée le temps d'une précision)" : ''}.</p>`);
  }
  if (i.eligibility && (i.eligibility.checked_at)) {
    out.push(`<p id="eligibility">Recevabilité : <strong>${i.eligibility.eligible ? 'recevable' : 'non recevable'}</strong>${i.eligibility.reason ? ` — ${esc(i.eligibility.reason)}` : ''} (${longDate(i.eligibility.checked_at)}).</p>`);
  }
  if ((i.merged_from || []).length) {
    out.push(`<h2 class="fr-mt-4w">Issue d'un regroupement</h2><ul id="lineage">${i.merged_from.map((o) => `<li><a href="/idees/${esc(o.idea_id)}">${esc(o.title)}</a>${o.author_name ? `, de ${esc(o.author_name)}` : ''}, regroupée le ${longDate(o.merged_at)} — ${esc(o.rationale)}${o.supports_moved ? ` — ${o.supports_moved} soutien${o.supports_moved > 1 ? 's' : ''} rejoint${o.supports_moved > 1 ? 's' : ''}` : ''}</li>`).join('')}</ul>`);
  }
  if ((i.links || []).length) {
    out.push(`<h2 class="fr-mt-4w">Idées liées</h2><ul id="links">${i.links.map((l) => `<li>${esc(linkWords(l.kind, l.inverse))} <a href="/idees/${esc(l.idea_id)}">${esc(l.title)}</a>${coord ? ` <button type="button" class="fr-btn fr-btn--tertiary-no-outline fr-btn--sm" data-unlink="${esc(l.idea_id)}" aria-label="Défaire le lien avec ${esc(l.title)}">Défaire</button>` : ''}</li>`).join('')}</ul>`);
  }
  const q = openQuestion(i);
  const asked = (i.clarifications || []);
  if (asked.length) {
    out.push(`<h2 class="fr-mt-4w" id="clarification">Précisions demandées</h2><ul>${asked.map((x) => `<li><strong>Question</strong> (${longDate(x.asked_at)}) : ${esc(x.question)}<br>${x.answered_at ? `<strong>Réponse</strong> (${longDate(x.answered_at)}) : ${esc(x.answer)}` : '<em>En attente de la réponse des auteurs — examen suspendu.</em>'}</li>`).join('')}</ul>`);
  }
  if (q && isAuthor) {
    out.push(`${alertBox('warning', "Le jury vous demande une précision : l'examen de votre idée est suspendu jusqu'à votre réponse. Vous pouvez aussi la modifier.")}
      <form id="answer" class="pep-form">${field('a-answer', 'Réponse à la question du jury', { name: 'answer', type: 'textarea', required: true })}${submit('Envoyer ma réponse')}</form>`);
  }
  if (!q && !isAuthor && reviewing(i) && !(i.pending_decisions || []).length && (coord || onJury || reviewer)) {
    out.push(`<form id="ask" class="pep-form fr-mt-2w"><h2 class="fr-h6">Demander une précision aux auteurs</h2>
      ${field('q-question', 'Question', { name: 'question', type: 'textarea', required: true, hint: "L'horloge de l'idée s'arrête jusqu'à leur réponse." })}${submit('Envoyer la question')}</form>`);
  }
  if (i.stage === 'STAGE_KIND_ELIGIBILITY' && i.status === 'IDEA_STATUS_SUBMITTED' && !isAuthor && (coord || reviewer)) {
    out.push(`<form id="eligible" class="pep-form fr-mt-2w"><h2 class="fr-h6">Recevabilité</h2>
      ${select('el-verdict', 'Verdict', 'eligible', [['true', 'Recevable'], ['false', 'Non recevable (écartée)']])}
      ${field('el-reason', 'Justification (obligatoire si non recevable)', { name: 'reason' })}${submit('Enregistrer la recevabilité')}</form>`);
  }
  if (coord && reviewing(i)) {
    const candidates = others.filter((o) => o.id !== i.id && reviewing(o));
    if (candidates.length) {
      const opts = candidates.map((o) => [o.id, `${o.title} (${word(IDEA_STATUS_ONE, o.status)})`]);
      out.push(`<form id="merge" class="pep-form fr-mt-4w"><h2 class="fr-h6">Regrouper une autre idée dans celle-ci</h2>
        ${select('m-other', 'Idée à regrouper', 'other', opts)}
        ${field('m-rationale', 'Pourquoi les regrouper', { name: 'rationale', required: true, hint: "Ses auteurs deviennent co-auteurs de celle-ci, ses soutiens la rejoignent (une personne compte une fois) ; l'autre idée renvoie ici. On peut annuler." })}
        ${submit('Regrouper')}</form>
        <form id="link" class="pep-form fr-mt-2w"><h2 class="fr-h6">Lier à une autre idée</h2>
        ${select('l-kind', 'Cette idée…', 'kind', Object.entries(LINK_KINDS))}
        ${select('l-other', '… cette idée-là', 'other', opts)}${submit('Lier')}</form>`);
    }
  }
  return out.join('');
}

function wireIdea(i) {
  const id = enc(i.id);
  const post = (path, body, message) => async () => {
    await api('POST', `/v1/ideas/${id}${path}`, body);
    toast(message);
    render();
  };
  document.getElementById('undo-merge')?.addEventListener('click', async () => {
    if (!window.confirm("Annuler ce regroupement ? L'idée redevient elle-même, ses auteurs et ses soutiens la retrouvent.")) return;
    try { await post(':undo-merge', undefined, 'Regroupement annulé')(); } catch (e) { toast('Erreur : ' + e.message, true); }
  });
  const form = (name, action) => { const f = document.getElementById(name); if (f) onSubmit(f, action); };
  form('answer', (f) => post(':answer-clarification', { answer: f.get('answer') }, "Réponse envoyée : l'examen reprend.")());
  form('ask', (f) => post(':ask-clarification', { question: f.get('question') }, "Question envoyée aux auteurs : l'horloge de l'idée est arrêtée.")());
  form('eligible', (f) => post(':eligibility', { eligible: f.get('eligible') === 'true', reason: f.get('reason') || '' },
    f.get('eligible') === 'true' ? 'Idée recevable' : 'Idée non recevable : écartée, motif transmis')());
  form('merge', (f) => post(':merge', { merged_idea_ids: [f.get('other')], rationale: f.get('rationale') },
    'Idées regroupées : leurs auteurs sont co-auteurs de celle-ci')());
  form('link', (f) => post('/links', { other_idea_id: f.get('other'), kind: f.get('kind') }, 'Idées liées')());
  for (const b of document.querySelectorAll('[data-unlink]')) {
    b.addEventListener('click', async () => {
      try {
        await api('DELETE', `/v1/ideas/${id}/links/${enc(b.dataset.unlink)}`);
        toast('Lien défait');
        render();
      } catch (e) { toast('Erreur : ' + e.message, true); }
    });
  }
}

export { accounts, calendar, challengeForms, ideaSection, onBehalfBox, wireChallenge, wireIdea };
