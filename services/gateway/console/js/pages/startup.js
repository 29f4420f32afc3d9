// A start-up's page (phases, committees, milestones, KPIs, feedback, timeline, exports) and the
// public feedback form.
import { api, download, idempotencyKey } from '../api.js';
import { followButton, wireFollow } from '../follow.js';
import { budgetSection, wireBudget } from '../budget.js';
import { kpiSection, wireKpis } from '../kpis.js';
import { buttonSection, feedbackForm, placementsOf, wireButton } from '../avis.js';
import { ficheEdits, ficheSection, publicationSection, wireFiche, wirePublication } from '../publication.js';
import { render } from '../main.js';
import { has, main, teamStartups } from '../session.js';
import { alertBox, badge, breadcrumb, dataTable, date, esc, field, int, num, onSubmit, pagination, select, submit, toast } from '../ui.js';
import { BANDS, MILESTONE_KINDS, NEXT_PHASES, OUTCOMES, PHASES, overdueWords, teamSignalWords, word } from '../words.js';

// The phase history as a picture: one bar per phase on a time axis, committee decisions as
// diamonds and milestones as dots; every mark has its words in a <title> and the list below.
function phaseTimeline(s, decisions, milestones) {
  const periods = s.phases || [];
  if (!periods.length) return '';
  const now = Date.now();
  const t = (ts) => new Date(ts).getTime();
  const start = Math.min(t(periods[0].start), ...milestones.map((m) => t(m.date)), ...decisions.map((d) => t(d.date)));
  const end = Math.max(now, ...periods.map((p) => (p.end ? t(p.end) : now)));
  const W = 900, left = 150, right = 20, rowH = 26, top = 30;
  const rows = [...new Set(periods.map((p) => p.phase))];
  const H = top + rows.length * rowH + 50;
  const x = (ms) => left + ((ms - start) / Math.max(1, end - start)) * (W - left - right);
  const ticks = [];
  for (let y = new Date(start).getUTCFullYear(); y <= new Date(end).getUTCFullYear(); y += 1) {
    const ms = Date.UTC(y, 0, 1);
    if (ms >= start && ms <= end) ticks.push([ms, y]);
  }
  const bars = periods.map((p) => {
    const r = rows.indexOf(p.phase);
    const x0 = x(t(p.start));
    const x1 = x(p.end ? t(p.end) : now);
    return `<rect class="pep-phase pep-phase--${p.phase.toLowerCase().replace(/_/g, '-')}" x="${x0}" y="${top + r * rowH + 4}"
      width="${Math.max(3, x1 - x0)}" height="${rowH - 8}" rx="3"><title>${esc(PHASES[p.phase] || p.phase)} : du ${date(p.start)}${p.end ? ' au ' + date(p.end) : " à aujourd'hui"}</title></rect>`;
  }).join('');
  const axisY = top + rows.length * rowH + 8;
  const marks = decisions.map((d) => {
    const cx = x(t(d.date));
    return `<path class="pep-mark-decision" d="M${cx} ${axisY + 4} l7 7 l-7 7 l-7 -7 z"><title>Comité du ${date(d.date)} : ${esc(word(OUTCOMES, d.outcome))}</title></path>`;
  }).join('') + milestones.map((m) => `<circle class="pep-mark-milestone" cx="${x(t(m.date))}" cy="${axisY + 30}" r="5"><title>Jalon du ${date(m.date)} : ${esc(m.title)}</title></circle>`).join('');
  return `<figure class="pep-gantt" id="phase-picture">
    <svg role="img" aria-labelledby="gantt-title" viewBox="0 0 ${W} ${H}" preserveAspectRatio="xMinYMin meet">
      <title id="gantt-title">Frise des phases de ${esc(s.name)} : ${periods.map((p) => `${PHASES[p.phase] || p.phase} du ${date(p.start)}${p.end ? ' au ' + date(p.end) : " à aujourd'hui"}`).join(' ; ')}</title>
      ${rows.map((p, r) => `<text class="pep-gantt-label" x="${left - 8}" y="${top + r * rowH + rowH / 2 + 5}" text-anchor="end">${esc(PHASES[p] || p)}</text>`).join('')}
      ${ticks.map(([ms, y]) => `<line class="pep-gantt-grid" x1="${x(ms)}" x2="${x(ms)}" y1="${top - 6}" y2="${axisY}"/><text class="pep-gantt-tick" x="${x(ms) + 3}" y="${top - 10}">${y}</text>`).join('')}
      <line class="pep-gantt-grid pep-gantt-now" x1="${x(now)}" x2="${x(now)}" y1="${top - 6}" y2="${axisY}"/>
      <text class="pep-gantt-label" x="${left - 8}" y="${axisY + 16}" text-anchor="end">Comités</text>
      <text class="pep-gantt-label" x="${left - 8}" y="${axisY + 35}" text-anchor="end">Jalons</text>
      ${bars}${marks}
    </svg>
    <figcaption class="fr-text--sm">Barres : phases ; losanges : décisions du comité ; points : jalons. Trait vertical : aujourd'hui.</figcaption>
  </figure>`;
}

// Satisfaction over time, with the colour bands (green from 8, yellow from 5, red below) and the
// "données insuffisantes" state when too few people answered for a colour.
function feedbackChart(summary) {
  const buckets = (summary.buckets || []).filter((b) => b.scores && b.scores.answers > 0);
  if (!buckets.length) return alertBox('info', "Pas encore d'avis sur la période.");
  const W = 720, H = 220, left = 40, right = 16, top = 12, bottom = 28;
  const x = (n) => left + (buckets.length === 1 ? (W - left - right) / 2 : n * (W - left - right) / (buckets.length - 1));
  const y = (v) => top + (1 - v / 10) * (H - top - bottom);
  const pts = buckets.map((b, n) => [x(n), b.scores.satisfaction === undefined ? null : y(b.scores.satisfaction), b]);
  const line = pts.filter((p) => p[1] !== null).map((p) => `${p[0]},${p[1]}`).join(' ');
  const label = (b) => `${date(b.start)} : ${b.scores.satisfaction === undefined ? 'sans note' : num(b.scores.satisfaction) + '/10'}, ${int(b.scores.answers)} avis${b.scores.band === 'BAND_INSUFFICIENT_DATA' ? ' (données insuffisantes)' : ''}`;
  return `<figure class="pep-feedback-chart" id="feedback-chart">
    <svg role="img" aria-label="Satisfaction des usagers par jour, sur 10, avec les seuils de couleur" viewBox="0 0 ${W} ${H}" preserveAspectRatio="xMinYMin meet">
      <rect class="pep-band pep-band--green" x="${left}" y="${y(10)}" width="${W - left - right}" height="${y(8) - y(10)}"/>
      <rect class="pep-band pep-band--yellow" x="${left}" y="${y(8)}" width="${W - left - right}" height="${y(5) - y(8)}"/>
      <rect class="pep-band pep-band--red" x="${left}" y="${y(5)}" width="${W - left - right}" height="${y(0) - y(5)}"/>
      ${[0, 5, 8, 10].map((v) => `<text class="pep-gantt-tick" x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v}</text>`).join('')}
      <polyline points="${line}" class="pep-series"/>
      ${pts.filter((p) => p[1] !== null).map(([cx, cy, b]) => `<circle class="${b.scores.band === 'BAND_INSUFFICIENT_DATA' ? 'pep-point pep-point--weak' : 'pep-point'}" cx="${cx}" cy="${cy}" r="5"><title>${esc(label(b))}</title></circle>`).join('')}
      <text class="pep-gantt-tick" x="${left}" y="${H - 8}">${date(buckets[0].start)}</text>
      <text class="pep-gantt-tick" x="${W - right}" y="${H - 8}" text-anchor="end">${date(buckets[buckets.length - 1].start)}</text>
    </svg>
    <figcaption class="fr-text--sm">Satisfaction par jour (sur 10) — ${int(buckets.reduce((a, b) => a + b.scores.answers, 0))} avis.
      Bandes : vert à partir de 8, jaune de 5 à 8, rouge en dessous ; point creux : moins de ${int(summary.threshold)} avis, données insuffisantes pour une couleur.</figcaption>
  </figure>`;
}

// KPIs as the team reported them, latest value of each with its date.
function kpis(milestones) {
  const latest = {};
  for (const m of [...milestones].sort((a, b) => (a.date < b.date ? -1 : 1))) {
    for (const k of m.kpis || []) latest[k.name + '\u0000' + (k.unit || '')] = { ...k, date: m.date };
  }
  const list = Object.values(latest);
  if (!list.length) return '<p>Aucun indicateur publié avec les jalons.</p>';
  return `<div class="fr-grid-row fr-grid-row--gutters" id="kpis">${list.map((k) => `<div class="fr-col-6 fr-col-md-3">
    <div class="fr-tile fr-tile--sm"><div class="fr-tile__body"><div class="fr-tile__content">
      <h3 class="fr-tile__title">${esc(num(k.value, Number.isInteger(k.value) ? 0 : 1))}${k.unit ? ' ' + esc(k.unit) : ''}</h3>
      <p class="fr-tile__desc">${esc(k.name)}</p><p class="fr-tile__detail">au ${date(k.date)}</p></div></div></div></div>`).join('')}</div>`;
}

const TIMELINE_PAGE = 25;

async function startup(id) {
  const enc = encodeURIComponent(id);
  const q = new URLSearchParams(location.search);
  const d = await api('GET', '/v1/startups/' + enc);
  const s = d.startup;
  const isCoord = has('coordinator');
  const [ms, timelineData, summary, rollingData, follow] = await Promise.all([
    api('GET', `/v1/startups/${enc}/milestones`),
    api('GET', `/v1/startups/${enc}/timeline`).catch(() => ({ entries: [] })),
    api('GET', `/v1/startups/${enc}/feedback/summary?granularity=GRANULARITY_DAY`).catch(() => ({ buckets: [] })),
    api('GET', `/v1/startups/${enc}/feedback/summary?granularity=GRANULARITY_ROLLING_12_MONTHS`).catch(() => ({ buckets: [] })),
    followButton('startup', s.id),
  ]);
  const canEdit = isCoord || teamStartups().includes(s.id);
  const [edits, placements, impact, budget, meetings] = await Promise.all([ficheEdits(s), placementsOf(s), kpiSection(s, canEdit),
    budgetSection(s, canEdit),
    isCoord ? api('GET', '/v1/committees').then((r) => (r.meetings || []).filter((m) => (m.startup_ids || []).includes(s.id))).catch(() => []) : []]);
  const milestones = ms.milestones || [];
  const decisions = d.decisions || [];
  const timeline = (timelineData.entries || []).slice().reverse();  // newest first
  const tPages = Math.max(1, Math.ceil(timeline.length / TIMELINE_PAGE));
  const tPage = Math.min(tPages, Math.max(1, parseInt(q.get('chronologie') || '1', 10) || 1));
  const shown = timeline.slice((tPage - 1) * TIMELINE_PAGE, tPage * TIMELINE_PAGE);
  const rolling = (rollingData.buckets || [])[0];
  const band = rolling && rolling.scores ? BANDS[rolling.scores.band] : null;
  const next = NEXT_PHASES[s.phase] || [];
  const unused = decisions.filter((x) => !x.used);
  main().innerHTML = `
    ${isCoord ? breadcrumb([['/portefeuille', 'Portefeuille'], ['', s.name]]) : ''}
    <h1>Start-up : ${esc(s.name)}</h1>
    ${follow}
    <p class="pep-badges">Phase : <strong id="phase">${esc(word(PHASES, s.phase))}</strong> — ${esc(s.incubator)}
      ${s.overdue ? `<span class="fr-badge fr-badge--sm fr-badge--warning">En retard</span>` : ''}</p>
    ${s.overdue ? alertBox('warning', (s.overdue_reasons || []).map(overdueWords).join(' ; '), 'En retard') : ''}
    ${(s.team_signals || []).length ? `<div id="team-signals">${alertBox('info', s.team_signals.map((g) => teamSignalWords(g, s.team)).join(' ; '), 'Signaux faibles sur l’équipe')}</div>` : ''}
    <p>${esc(s.mission)}</p>
    <p>${(s.sponsors || []).length ? 'Administrations porteuses : ' + esc(s.sponsors.join(', ')) + ' — ' : ''}
      <a href="/avis/${esc(s.id)}">Formulaire public « Je donne mon avis »</a></p>

    <h2>Historique des phases</h2>
    ${phaseTimeline(s, decisions, milestones)}
    <ol class="pep-phase-list">${(s.phases || []).map((p) => `<li>${esc(word(PHASES, p.phase))} depuis le ${date(p.start)}${p.end ? ' jusqu\'au ' + date(p.end) : ''}${p.comment ? ' — ' + esc(p.comment) : ''}</li>`).join('')}</ol>
    ${decisions.length ? dataTable('Décisions du comité', ['Date', 'Décision', 'Motif', 'Participants'],
    decisions.map((x) => [date(x.date), esc(word(OUTCOMES, x.outcome)), esc(x.rationale), esc((x.participants || []).join(', '))])) : ''}

    <h2 class="fr-mt-4w">Valeurs publiées avec les jalons</h2>
    ${kpis(milestones)}

    <h2 class="fr-mt-4w">Jalons</h2>
    <ul id="milestones">${milestones.map((m) => `<li>${date(m.date)} — ${esc(m.title)} ${badge(word(MILESTONE_KINDS, m.kind))}</li>`).join('') || '<li>Aucun jalon.</li>'}</ul>
    ${isCoord || teamStartups().includes(s.id) ? `<form id="milestone" class="pep-form"><h3>Publier un jalon</h3>
      ${field('m-title', 'Titre du jalon', { name: 'title', required: true })}
      ${select('m-kind', 'Type', 'kind', Object.entries(MILESTONE_KINDS).filter(([k]) => k !== 'MILESTONE_KIND_UNSPECIFIED'))}
      ${field('m-date', 'Date', { name: 'date', type: 'date', value: new Date().toISOString().slice(0, 10) })}
      ${field('m-kpi-name', 'Indicateur (facultatif)', { name: 'kpi_name', hint: 'Par exemple : usagers actifs' })}
      ${field('m-kpi-value', "Valeur de l'indicateur", { name: 'kpi_value', type: 'number', attrs: 'step="any"' })}
      ${submit('Publier le jalon')}</form>` : ''}

    ${isCoord ? (next.length ? `<form id="committee" class="pep-form fr-mt-4w"><h3>Comité et changement de phase</h3>
      <p class="fr-text--sm">Depuis « ${esc(word(PHASES, s.phase))} », les phases possibles sont : ${next.map((p) => esc(PHASES[p])).join(', ')}.</p>
      ${select('k-outcome', 'Décision du comité', 'outcome', Object.entries(OUTCOMES).filter(([k]) => k !== 'COMMITTEE_OUTCOME_UNSPECIFIED'))}
      ${field('k-participants', 'Participants (séparés par des virgules)', { name: 'participants', value: 'DGS', required: true })}
      ${field('k-rationale', 'Motif', { name: 'rationale', required: true })}
      ${select('k-to', 'Nouvelle phase', 'to', [...next.map((p) => [p, PHASES[p]]), ['', 'Aucune (prolongation : la décision seule est enregistrée)']])}
      <h4 class="fr-mt-2w">Le comité : sa date, ce qu'il accorde, sa prochaine revue</h4>
      ${field('k-date', 'Date du comité', { name: 'date', type: 'date', value: new Date().toISOString().slice(0, 10), required: true })}
      ${meetings.length ? select('k-meeting', 'Réunion du comité', 'meeting_id', [['', '—'], ...meetings.map((m) => [m.id, `${m.title} (${date(m.date)})`])]) : ''}
      ${field('k-envelope', 'Enveloppe accordée (euros)', { name: 'envelope_eur', type: 'number', attrs: 'min="0" step="1"' })}
      ${field('k-next', 'Prochaine revue', { name: 'next_review', type: 'date', hint: 'Par défaut : six mois après le comité (aucune après un STOP)' })}
      ${[0, 1].map((i) => `<fieldset class="fr-fieldset" id="objective-${i}"><legend class="fr-fieldset__legend--regular">Objectif ${i + 1} (facultatif)</legend>
        ${select(`k-okpi-${i}`, 'Indicateur', `okpi_${i}`, [['', '—'], ...impact.kpis.map((k) => [k.id, k.name])])}
        ${field(`k-otarget-${i}`, 'Valeur visée', { name: `otarget_${i}`, type: 'number', attrs: 'step="any"' })}
        ${field(`k-oby-${i}`, 'Échéance', { name: `oby_${i}`, type: 'date' })}
        ${field(`k-otext-${i}`, 'En mots', { name: `otext_${i}` })}</fieldset>`).join('')}
      ${submit('Enregistrer le comité et changer de phase')}</form>`
    : alertBox('info', `« ${word(PHASES, s.phase)} » est une phase terminale : plus aucun comité ni changement de phase.`, 'Parcours terminé'))
    : ''}
    ${isCoord && next.length && unused.length ? `<p class="fr-text--sm">${int(unused.length)} décision(s) du comité pas encore suivie(s) d'un changement de phase.</p>` : ''}

    ${impact.html}
    ${budget}

    ${ficheSection(s, edits)}
    ${publicationSection(s)}
    ${buttonSection(s, placements)}

    <h2 class="fr-mt-4w">Avis des usagers</h2>
    ${rolling && rolling.scores ? `<p id="feedback-summary">12 derniers mois : ${int(rolling.scores.answers)} avis${rolling.scores.satisfaction !== undefined ? ', satisfaction ' + num(rolling.scores.satisfaction) + '/10' : ''}${rolling.scores.band === 'BAND_INSUFFICIENT_DATA' ? ' (données insuffisantes pour une couleur)' : ''}
      ${band ? badge(band[0], band[1]) : ''}</p>` : '<p id="feedback-summary">Aucun avis.</p>'}
    ${feedbackChart(summary)}

    <h2 class="fr-mt-4w">Exports</h2>
    <ul class="fr-btns-group fr-btns-group--inline-md">
      <li><button class="fr-btn fr-btn--secondary fr-icon-download-line fr-btn--icon-left" type="button" id="export-ledger">Exporter le registre (JSON Lines)</button></li>
      <li><button class="fr-btn fr-btn--secondary fr-icon-download-line fr-btn--icon-left" type="button" id="export-feedback">Exporter les avis (CSV)</button></li>
    </ul>
    <div id="export-status" role="status"></div>

    <h2 class="fr-mt-4w">Chronologie (registre d'audit)</h2>
    <p class="fr-text--sm">${int(timeline.length)} événement(s), du plus récent au plus ancien${tPages > 1 ? ` — page ${tPage} sur ${tPages}` : ''}.</p>
    <ol class="pep-timeline" id="timeline">${shown.map((e) => `<li><time datetime="${esc(e.effective_time)}">${date(e.effective_time)}</time>
      ${esc(e.summary)} <span class="fr-text--xs">${esc(e.actor_name || e.actor)}${e.log_index >= 0 && e.log_index !== undefined ? ` · entrée n° ${int(e.log_index)}` : ''}</span></li>`).join('') || '<li>Le registre n\'a encore rien enregistré.</li>'}</ol>
    ${pagination(tPage, tPages, (p) => `/startups/${encodeURIComponent(id)}${p > 1 ? '?chronologie=' + p : ''}`)}`;
  wireFollow();
  wirePublication(s);
  wireFiche(s);
  wireButton(s);
  wireKpis(s);
  wireBudget(s);
  const exportStatus = document.getElementById('export-status');
  document.getElementById('export-ledger').addEventListener('click', () =>
    download(`/v1/startups/${enc}/ledger:export`, `registre-${s.slug || s.id}.jsonl`, exportStatus));
  document.getElementById('export-feedback').addEventListener('click', () =>
    download(`/v1/startups/${enc}/feedback:export?format=EXPORT_FORMAT_CSV`, `avis-${s.slug || s.id}.csv`, exportStatus));
  const msForm = document.getElementById('milestone');
  if (msForm) {
    onSubmit(msForm, async (f) => {
      const body = {
        title: f.get('title'), kind: f.get('kind'), idempotency_key: idempotencyKey('console-'),
        date: f.get('date') ? new Date(f.get('date') + 'T12:00:00Z').toISOString() : new Date().toISOString(),
      };
      if (f.get('kpi_name')) body.kpis = [{ name: f.get('kpi_name'), value: Number(f.get('kpi_value') || 0) }];
      await api('POST', `/v1/startups/${enc}/milestones`, body);
      toast('Jalon publié');
      render();
    });
  }
  const committee = document.getElementById('committee');
  if (committee) {
    onSubmit(committee, async (f) => {
      const noon = (day) => new Date(day + 'T12:00:00Z').toISOString();
      const today = new Date().toISOString().slice(0, 10);
      const objectives = [0, 1].map((i) => ({
        kpi: f.get(`okpi_${i}`) || '', target: Number(f.get(`otarget_${i}`) || 0),
        by: f.get(`oby_${i}`) ? noon(f.get(`oby_${i}`)) : undefined, text: f.get(`otext_${i}`) || '',
      })).filter((o) => o.kpi || o.text);
      const dec = await api('POST', `/v1/startups/${enc}/committee-decisions`, {
        date: f.get('date') && f.get('date') !== today ? noon(f.get('date')) : new Date().toISOString(),
        outcome: f.get('outcome'), rationale: f.get('rationale'),
        participants: String(f.get('participants')).split(',').map((x) => x.trim()).filter(Boolean),
        meeting_id: f.get('meeting_id') || '', envelope_eur: Number(f.get('envelope_eur') || 0), objectives,
        next_review: f.get('next_review') ? noon(f.get('next_review')) : undefined,
      });
      if (f.get('to')) {
        await api('POST', `/v1/startups/${enc}:change-phase`, { to: f.get('to'), decision_id: dec.id });
        toast('Phase changée');
      } else {
        toast('Décision du comité enregistrée');
      }
      render();
    });
  }
}

export {
  TIMELINE_PAGE, feedbackChart, feedbackForm, kpis, phaseTimeline, startup,
};
