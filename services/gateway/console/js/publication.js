// A start-up's publication, for coordinators (issue 30): nothing is public until it is published,
// then only the parts ticked here; the public page and the open data follow at once.
import { api } from './api.js';
import { render } from './main.js';
import { has, teamStartups } from './session.js';
import { date, esc, field, onSubmit, select, submit, toast } from './ui.js';
import { MEMBER_STATUS, TEAM_ROLES } from './words.js';

const PARTS = [
  ['mission', 'Mission'], ['phases', 'Phases'], ['events', 'Comités (date, issue) et jalons (date, titre)'],
  ['team', 'Équipe (noms et rôles)'], ['sponsors', 'Sponsors'], ['links', 'Liens (service, code source, statistiques)'],
  ['thematiques', 'Thématiques'], ['origin_idea', "L'idée dont elle est issue (ses auteurs nommés s'ils l'acceptent)"],
  ['satisfaction', 'Satisfaction des usagers (une note dès 100 avis sur 12 mois)'],
  ['kpis', "Indicateurs publics (tenus par l'équipe dans sa fiche)"],
];

function publicationSection(s) {
  if (!has('coordinator')) return '';
  const p = s.publication || {};
  const box = (name, label, checked) => `<div class="fr-checkbox-group"><input type="checkbox" id="pub-${name}" name="${name}"${checked ? ' checked' : ''}>
    <label class="fr-label" for="pub-${name}">${esc(label)}</label></div>`;
  return `<h2 class="fr-mt-4w">Publication</h2>
    <p id="publication-state">${p.published ? `Publiée : <a href="/startups/${esc(s.slug)}">sa page publique</a>.` : "Pas publiée : rien d'elle n'est public."}</p>
    <form id="publication" class="pep-form"><fieldset class="fr-fieldset"><legend class="fr-fieldset__legend">Ce qui est public</legend>
      ${box('published', 'Publier la start-up (sans cela, rien n’est public)', p.published)}
      ${PARTS.map(([n, l]) => box(n, l, p[n])).join('')}</fieldset>
      ${submit('Enregistrer la publication')}</form>`;
}

function wirePublication(s) {
  const form = document.getElementById('publication');
  if (!form) return;
  onSubmit(form, async (f) => {
    const policy = { published: f.get('published') === 'on' };
    for (const [n] of PARTS) policy[n] = f.get(n) === 'on';
    await api('PUT', `/v1/startups/${encodeURIComponent(s.id)}/publication`, { policy });
    toast(policy.published ? 'Publication enregistrée : la page publique est à jour' : "Start-up dépubliée : plus rien d'elle n'est public");
    render();
  });
}

// The team keeps its fiche: its members propose mission, links and thematiques (live at once or
// after a coordinator's review, as the incubator chose); coordinators review here.
const mayEdit = (s) => has('coordinator') || teamStartups().includes(s.id);
const STATUS = {
  FICHE_EDIT_STATUS_PENDING: 'en attente de relecture', FICHE_EDIT_STATUS_APPROVED: 'acceptée',
  FICHE_EDIT_STATUS_REJECTED: 'refusée', FICHE_EDIT_STATUS_APPLIED: 'en ligne',
};

async function ficheEdits(s) {
  if (!mayEdit(s)) return [];
  try { return (await api('GET', `/v1/startups/${encodeURIComponent(s.id)}/fiche-edits`)).edits || []; } catch (e) { return []; }
}

function ficheSection(s, edits) {
  if (!mayEdit(s)) return '';
  const l = s.links || {};
  const pending = edits.filter((e) => e.status === 'FICHE_EDIT_STATUS_PENDING');
  return `<h2 class="fr-mt-4w" id="fiche-title">La fiche</h2>
    ${edits.length ? `<ul id="fiche-edits">${edits.slice(-5).reverse().map((e) => `<li>${date(e.proposed_at)} — ${esc(STATUS[e.status] || e.status)}${e.mission ? ` : « ${esc(e.mission)} »` : ''}${e.reason ? ` (motif : ${esc(e.reason)})` : ''}
      ${has('coordinator') && e.status === 'FICHE_EDIT_STATUS_PENDING' ? `<button type="button" class="fr-btn fr-btn--sm fr-ml-1w" data-approve="${esc(e.id)}">Accepter</button>
        <button type="button" class="fr-btn fr-btn--sm fr-btn--secondary fr-ml-1w" data-reject="${esc(e.id)}">Refuser</button>` : ''}</li>`).join('')}</ul>` : ''}
    ${has('coordinator') && pending.length ? field('fiche-reason', 'Motif d’un refus (lu par l’équipe)', { name: 'reason' }) : ''}
    <form id="fiche" class="pep-form"><h3 class="fr-h6">Modifier la fiche</h3>
      ${field('f-mission', 'Mission', { name: 'mission', type: 'textarea', value: s.mission })}
      ${field('f-product', 'Adresse du service', { name: 'product', type: 'url', value: l.product || '' })}
      ${field('f-repository', 'Code source', { name: 'repository', type: 'url', value: l.repository || '' })}
      ${field('f-stats', "Statistiques d'usage", { name: 'stats', type: 'url', value: l.stats || '' })}
      ${field('f-tags', 'Thématiques (séparées par des virgules)', { name: 'tags', value: (s.tags || []).join(', ') })}
      <fieldset class="fr-fieldset" id="f-kpis"><legend class="fr-fieldset__legend">Indicateurs publics (jusqu’à trois ici ; vides : inchangés)</legend>
        ${[0, 1, 2].map((n) => { const k = (s.public_kpis || [])[n] || {}; return `<div class="fr-fieldset__element">
          ${field(`f-kpi-name-${n}`, `Indicateur ${n + 1}`, { name: `kpi_name_${n}`, value: k.name || '', hint: n === 0 ? 'Par exemple : familles accompagnées' : '' })}
          ${field(`f-kpi-value-${n}`, `Valeur de l’indicateur ${n + 1}`, { name: `kpi_value_${n}`, type: 'number', value: k.value ?? '', attrs: 'step="any"' })}
          ${field(`f-kpi-unit-${n}`, `Unité de l’indicateur ${n + 1} (facultatif)`, { name: `kpi_unit_${n}`, value: k.unit || '' })}</div>`; }).join('')}</fieldset>
      ${submit('Proposer la modification')}</form>
    ${teamSection(s)}`;
}

// The team, kept by the team itself (or a coordinator): who is on it with which role, status and
// mission end; who joins, who leaves; each change recorded (issue 31).
const ROLE_OPTIONS = [['', 'Choisir un rôle'], ...Object.entries(TEAM_ROLES)];
const STATUS_OPTIONS = [['', 'Non précisé'], ...Object.entries(MEMBER_STATUS)];
const day = (ts) => (ts ? String(ts).slice(0, 10) : '');

function memberLine(m) {
  const bits = [TEAM_ROLES[m.kind], MEMBER_STATUS[m.status]].filter(Boolean).join(', ');
  const mission = m.mission_end ? `, mission jusqu’au ${date(m.mission_end)}` : '';
  return `<li data-member="${esc(m.id)}">${esc(m.name)} — ${esc(m.role)}${bits ? ` (${esc(bits)})` : ''}${mission}
    <details class="fr-mt-1w"><summary>Modifier ${esc(m.name)}</summary>
      <form class="pep-form" data-edit="${esc(m.id)}">
        ${select(`e-kind-${m.id}`, 'Rôle', 'kind', ROLE_OPTIONS, { selected: m.kind || '' })}
        ${field(`e-role-${m.id}`, 'Intitulé', { name: 'role', value: m.role || '' })}
        ${select(`e-status-${m.id}`, 'Statut', 'status', STATUS_OPTIONS, { selected: m.status || '' })}
        ${field(`e-end-${m.id}`, 'Fin de mission prévue (vide : sans fin prévue)', { name: 'mission_end', type: 'date', value: day(m.mission_end) })}
        ${submit('Enregistrer')}</form></details>
    <button type="button" class="fr-btn fr-btn--sm fr-btn--tertiary fr-mt-1w" data-leave="${esc(m.id)}">Retirer ${esc(m.name)}</button></li>`;
}

function teamSection(s) {
  if (!mayEdit(s)) return '';
  const current = (s.team || []).filter((m) => !m.end);
  return `<h3 class="fr-h6 fr-mt-3w" id="team-title">L’équipe</h3>
    <ul id="team-members">${current.map(memberLine).join('') || '<li>Personne pour l’instant.</li>'}</ul>
    <form id="team-add" class="pep-form">
      ${field('t-name', 'Nom du nouveau membre', { name: 'name', required: true })}
      ${select('t-kind', 'Rôle', 'kind', ROLE_OPTIONS)}
      ${field('t-role', 'Intitulé (facultatif avec un rôle)', { name: 'role', hint: 'Par exemple : développeuse back-end' })}
      ${select('t-status', 'Statut', 'status', STATUS_OPTIONS)}
      ${field('t-mission-end', 'Fin de mission prévue (facultatif)', { name: 'mission_end', type: 'date' })}
      ${field('t-email', 'Courriel professionnel (facultatif : à sa première connexion, il rejoint l’équipe dans la console)', { name: 'email', type: 'email' })}
      ${submit('Ajouter à l’équipe')}</form>`;
}

const midnight = (d) => `${d}T00:00:00Z`;

function wireTeam(s) {
  const form = document.getElementById('team-add');
  if (!form) return;
  const base = `/v1/startups/${encodeURIComponent(s.id)}/team`;
  onSubmit(form, async (f) => {
    const body = { name: f.get('name') };
    for (const k of ['role', 'kind', 'status', 'email']) if (f.get(k)) body[k] = f.get(k);
    if (f.get('mission_end')) body.mission_end = midnight(f.get('mission_end'));
    await api('POST', base, body);
    toast('Membre ajouté à l’équipe');
    render();
  });
  for (const edit of document.querySelectorAll('[data-edit]')) {
    const m = (s.team || []).find((x) => x.id === edit.dataset.edit) || {};
    onSubmit(edit, async (f) => {
      const body = {};
      if (f.get('role') && f.get('role') !== m.role) body.role = f.get('role');
      if (f.get('kind') && f.get('kind') !== m.kind) body.kind = f.get('kind');
      if (f.get('status') && f.get('status') !== m.status) body.status = f.get('status');
      if (f.get('mission_end') && f.get('mission_end') !== day(m.mission_end)) body.mission_end = midnight(f.get('mission_end'));
      if (!f.get('mission_end') && m.mission_end) body.clear_mission_end = true;
      if (!Object.keys(body).length) { toast('Rien à modifier'); return; }
      await api('PATCH', `${base}/${encodeURIComponent(m.id)}`, body);
      toast(`${m.name} : modification enregistrée`);
      render();
    });
  }
  for (const b of document.querySelectorAll('[data-leave]')) {
    b.addEventListener('click', async () => {
      const who = ((s.team || []).find((x) => x.id === b.dataset.leave) || {}).name || 'ce membre';
      if (!window.confirm(`Retirer ${who} de l’équipe ? Son départ sera daté d’aujourd’hui.`)) return;
      try {
        await api('DELETE', `${base}/${encodeURIComponent(b.dataset.leave)}`);
        toast('Membre retiré de l’équipe');
        render();
      } catch (e) { toast('Erreur : ' + e.message, true); }
    });
  }
}

function wireFiche(s) {
  wireTeam(s);
  const form = document.getElementById('fiche');
  if (!form) return;
  onSubmit(form, async (f) => {
    const body = { mission: f.get('mission') || '', links: { product: f.get('product') || '', repository: f.get('repository') || '', stats: f.get('stats') || '' },
      tags: String(f.get('tags') || '').split(',').map((t) => t.trim()).filter(Boolean) };
    const kpis = [0, 1, 2].filter((n) => String(f.get(`kpi_name_${n}`) || '').trim())
      .map((n) => ({ name: String(f.get(`kpi_name_${n}`)).trim(), value: Number(f.get(`kpi_value_${n}`) || 0), unit: String(f.get(`kpi_unit_${n}`) || '').trim() }));
    if (kpis.length) body.kpis = kpis;
    const e = await api('POST', `/v1/startups/${encodeURIComponent(s.id)}/fiche-edits`, body);
    toast(e.status === 'FICHE_EDIT_STATUS_PENDING' ? 'Modification proposée : la coordination la relit avant sa mise en ligne' : 'Fiche mise à jour');
    render();
  });
  const decide = (id, approve) => async () => {
    try {
      const reason = approve ? '' : (document.getElementById('fiche-reason')?.value || '');
      await api('POST', `/v1/fiche-edits/${encodeURIComponent(id)}:decide`, { approve, reason });
      toast(approve ? 'Modification acceptée : la fiche et sa page publique sont à jour' : "Modification refusée : l'équipe lit le motif");
      render();
    } catch (e) { toast('Erreur : ' + e.message, true); }
  };
  for (const b of document.querySelectorAll('[data-approve]')) b.addEventListener('click', decide(b.dataset.approve, true));
  for (const b of document.querySelectorAll('[data-reject]')) b.addEventListener('click', decide(b.dataset.reject, false));
}

export { ficheEdits, ficheSection, publicationSection, wireFiche, wirePublication };
