// A start-up's indicators of impact (issue 31): each one's measures as a line with its dated
// targets as a dashed line, the distance to the next target, the North Star first; the team and
// the coordinators define an indicator and record a measure here (or from CI: pepctl kpi push).
import { api, idempotencyKey } from './api.js';
import { render } from './main.js';
import { date, esc, field, num, onSubmit, select, submit, toast } from './ui.js';

const DIRECTIONS = { KPI_DIRECTION_UP: 'À la hausse (plus est mieux)', KPI_DIRECTION_DOWN: 'À la baisse (moins est mieux)' };
const t = (ts) => new Date(ts).getTime();
const fmt = (v) => num(v, Number.isInteger(v) ? 0 : 2);

// The next target from today (else the last), and how far the latest measure is from it.
function distance(k, points) {
  const now = Date.now();
  const targets = (k.targets || []).slice().sort((a, b) => t(a.date) - t(b.date));
  const next = targets.find((x) => t(x.date) >= now) || targets[targets.length - 1];
  const last = points[points.length - 1];
  if (!next) return 'Aucune cible datée.';
  const unit = k.unit ? ' ' + k.unit : '';
  if (!last) return `Cible : ${fmt(next.value || 0)}${unit} au ${date(next.date)} — aucune mesure encore.`;
  const down = k.direction === 'KPI_DIRECTION_DOWN';
  const v = last.value || 0;
  const target = next.value || 0;
  const reached = down ? v <= target : v >= target;
  return `Cible : ${fmt(target)}${unit} au ${date(next.date)} — ${reached ? 'atteinte' : `écart ${fmt(Math.abs(target - v))}${unit}`} (dernière mesure ${fmt(v)}${unit} le ${date(last.date)}).`;
}

// Cost beside impact (issue 31): what was paid since the current envelope began, and what that
// bought on this indicator — its progress since then (from the last measure on or before the
// envelope's start, else the baseline, to the latest), in euros per unit of progress.
function costBeside(k, points, budget) {
  const paid = Number((budget || {}).paid_eur || 0);
  if (!budget || !budget.since || !paid) return '';
  const since = t(budget.since);
  const before = points.filter((p) => t(p.date) <= since);
  const from = before.length ? (before[before.length - 1].value || 0) : (k.baseline || 0);
  const last = points[points.length - 1];
  const spent = `${num(paid, 0)} € payés depuis le ${date(budget.since)}`;
  const unit = k.unit ? ' ' + k.unit : '';
  if (!last || t(last.date) <= since) return `Coût : ${spent} ; aucune mesure depuis.`;
  const gain = (k.direction === 'KPI_DIRECTION_DOWN' ? from - last.value : last.value - from) || 0;
  if (gain <= 0) return `Coût : ${spent} ; pas de progrès mesuré depuis (${fmt(from)} → ${fmt(last.value || 0)}${unit}).`;
  return `Coût : ${spent} pour ${fmt(gain)}${unit} de progrès (${fmt(from)} → ${fmt(last.value)}${unit}), soit ${num(paid / gain, 2)} € par${unit || ' unité'}.`;
}

function kpiChart(k, points) {
  const targets = (k.targets || []).slice().sort((a, b) => t(a.date) - t(b.date));
  if (!points.length && !targets.length) return '';
  const W = 640, H = 200, left = 56, right = 16, top = 12, bottom = 28;
  const xs = [...points.map((p) => t(p.date)), ...targets.map((x) => t(x.date))];
  const ys = [k.baseline || 0, ...points.map((p) => p.value || 0), ...targets.map((x) => x.value || 0)];
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 86400000);
  const y0 = Math.min(0, ...ys), y1 = Math.max(...ys, y0 + 1);
  const x = (ms) => left + ((ms - x0) / (x1 - x0)) * (W - left - right);
  const y = (v) => top + (1 - (v - y0) / (y1 - y0)) * (H - top - bottom);
  const line = points.map((p) => `${x(t(p.date))},${y(p.value || 0)}`).join(' ');
  const tline = targets.map((p) => `${x(t(p.date))},${y(p.value || 0)}`).join(' ');
  const label = `${k.name} : ${points.map((p) => `${date(p.date)} ${fmt(p.value || 0)}`).join(', ') || 'aucune mesure'} ; cibles : ${targets.map((p) => `${fmt(p.value || 0)} au ${date(p.date)}`).join(', ') || 'aucune'}`;
  return `<figure class="pep-feedback-chart pep-kpi-chart">
    <svg role="img" aria-label="${esc(label)}" viewBox="0 0 ${W} ${H}" preserveAspectRatio="xMinYMin meet">
      ${[y0, (y0 + y1) / 2, y1].map((v) => `<text class="pep-gantt-tick" x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${esc(fmt(Math.round(v * 100) / 100))}</text>`).join('')}
      ${targets.length ? `<polyline points="${tline}" class="pep-target"/>` : ''}
      ${targets.map((p) => `<rect class="pep-target-mark" x="${x(t(p.date)) - 4}" y="${y(p.value || 0) - 4}" width="8" height="8"><title>Cible : ${esc(fmt(p.value || 0))} au ${date(p.date)}</title></rect>`).join('')}
      <polyline points="${line}" class="pep-series"/>
      ${points.map((p) => `<circle class="pep-point" cx="${x(t(p.date))}" cy="${y(p.value || 0)}" r="4"><title>${date(p.date)} : ${esc(fmt(p.value || 0))}</title></circle>`).join('')}
      <text class="pep-gantt-tick" x="${left}" y="${H - 8}">${date(new Date(x0).toISOString())}</text>
      <text class="pep-gantt-tick" x="${W - right}" y="${H - 8}" text-anchor="end">${date(new Date(x1).toISOString())}</text>
    </svg>
    <figcaption class="fr-text--sm">Trait plein : mesures ; pointillés et carrés : cibles.</figcaption>
  </figure>`;
}

async function kpiSection(s, canEdit) {
  const enc = encodeURIComponent(s.id);
  const data = await api('GET', `/v1/startups/${enc}/kpis`).catch(() => ({ kpis: [], points: [] }));
  const kpis = (data.kpis || []).slice().sort((a, b) => (b.north_star ? 1 : 0) - (a.north_star ? 1 : 0));
  // One measure a date: the one recorded last (as the pre-read counts them).
  const byKpi = {};
  const latest = {};
  for (const p of data.points || []) {
    const key = p.kpi + '\u0000' + p.date;
    if (!latest[key] || t(p.recorded_at) >= t(latest[key].recorded_at)) latest[key] = p;
  }
  for (const p of Object.values(latest)) (byKpi[p.kpi] = byKpi[p.kpi] || []).push(p);
  for (const list of Object.values(byKpi)) list.sort((a, b) => t(a.date) - t(b.date));
  const cards = kpis.map((k) => {
    const pts = byKpi[k.id] || [];
    return `<section class="pep-kpi fr-mb-3w" id="kpi-${esc(k.id)}">
      <h3>${esc(k.name)}${k.north_star ? ' <span class="fr-badge fr-badge--sm fr-badge--info">Étoile du Nord</span>' : ''}${k.public ? ' <span class="fr-badge fr-badge--sm">Public</span>' : ''}</h3>
      ${k.definition ? `<p class="fr-text--sm">${esc(k.definition)}</p>` : ''}
      <p class="fr-text--sm">${esc(DIRECTIONS[k.direction] || '')} ; point de départ ${esc(fmt(k.baseline || 0))}${k.unit ? ' ' + esc(k.unit) : ''}${k.source ? ' ; source : ' + esc(k.source) : ''}.</p>
      <p class="pep-kpi-distance">${esc(distance(k, pts))}</p>
      ${k.north_star && costBeside(k, pts, s.budget) ? `<p class="pep-kpi-cost">${esc(costBeside(k, pts, s.budget))}</p>` : ''}
      ${kpiChart(k, pts)}</section>`;
  }).join('');
  const forms = canEdit ? `
    <form id="kpi-point" class="pep-form"><h3>Enregistrer une mesure</h3>
      <p class="fr-text--sm">Depuis la CI de l'équipe : <code>pepctl kpi push --startup ${esc(s.slug || s.id)} --kpi ID --value N --date AAAA-MM-JJ</code>.</p>
      ${kpis.length ? select('p-kpi', 'Indicateur', 'kpi', kpis.map((k) => [k.id, k.name])) : ''}
      ${field('p-value', 'Valeur', { name: 'value', type: 'number', required: true, attrs: 'step="any"' })}
      ${field('p-date', 'Date de la mesure', { name: 'date', type: 'date', value: new Date().toISOString().slice(0, 10), required: true })}
      ${submit('Enregistrer la mesure')}</form>
    <form id="kpi-define" class="pep-form fr-mt-3w"><h3>Définir un indicateur</h3>
      ${field('k-id', 'Identifiant', { name: 'id', required: true, hint: 'minuscules, chiffres et tirets ; le même identifiant redéfinit l\'indicateur', attrs: 'pattern="[a-z0-9][a-z0-9_-]*" maxlength="60"' })}
      ${field('k-name', 'Nom', { name: 'name', required: true })}
      ${field('k-definition', 'Définition (ce qui est compté)', { name: 'definition', type: 'textarea' })}
      ${field('k-unit', 'Unité', { name: 'unit', hint: 'Par exemple : démarches, jours, %' })}
      ${field('k-source', 'Source', { name: 'source', hint: "D'où vient la mesure : Matomo, base de l'outil…" })}
      ${select('k-direction', 'Sens', 'direction', Object.entries(DIRECTIONS))}
      ${field('k-baseline', 'Point de départ', { name: 'baseline', type: 'number', value: '0', attrs: 'step="any"' })}
      ${field('k-target', 'Cible (facultative)', { name: 'target', type: 'number', attrs: 'step="any"' })}
      ${field('k-target-date', 'Date de la cible', { name: 'target_date', type: 'date' })}
      <div class="fr-checkbox-group"><input type="checkbox" id="k-north" name="north_star"><label class="fr-label" for="k-north">Étoile du Nord (l'indicateur principal)</label></div>
      <div class="fr-checkbox-group"><input type="checkbox" id="k-public" name="public"><label class="fr-label" for="k-public">Peut figurer sur la page publique</label></div>
      ${submit("Définir l'indicateur")}</form>` : '';
  return { html: `<h2 class="fr-mt-4w" id="impact">Impact</h2>
    ${kpis.length ? cards : '<p>Aucun indicateur défini.</p>'}${forms}`, kpis };
}

function wireKpis(s) {
  const enc = encodeURIComponent(s.id);
  const point = document.getElementById('kpi-point');
  if (point) {
    onSubmit(point, async (f) => {
      const kpi = f.get('kpi');
      if (!kpi) throw new Error("kpi: définissez d'abord un indicateur");
      await api('POST', `/v1/startups/${enc}/kpis/${encodeURIComponent(kpi)}/points`, {
        value: Number(f.get('value')), date: new Date(f.get('date') + 'T12:00:00Z').toISOString(),
        idempotency_key: idempotencyKey('console-'),
      });
      toast('Mesure enregistrée');
      render();
    });
  }
  const define = document.getElementById('kpi-define');
  if (define) {
    onSubmit(define, async (f) => {
      const kpi = {
        id: f.get('id'), name: f.get('name'), definition: f.get('definition'), unit: f.get('unit'), source: f.get('source'),
        direction: f.get('direction'), baseline: Number(f.get('baseline') || 0),
        north_star: f.get('north_star') === 'on', public: f.get('public') === 'on',
      };
      if (f.get('target') !== '' && f.get('target_date')) {
        kpi.targets = [{ value: Number(f.get('target')), date: new Date(f.get('target_date') + 'T12:00:00Z').toISOString() }];
      }
      await api('POST', `/v1/startups/${enc}/kpis`, { kpi });
      toast('Indicateur défini');
      render();
    });
  }
}

export { DIRECTIONS, kpiSection, wireKpis };
