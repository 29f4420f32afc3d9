// Investment committees (issue 31): the coordinators schedule a meeting with its agenda; each
// team on it files its ask (team, envelope, hypotheses, success criteria against its
// indicators); the coordinators issue each start-up's pre-read — computed from what is recorded
// at that instant, its SHA-256 on the ledger — and anyone who may read it can have pep-audit
// make it again from the ledger alone and compare.
import { api } from '../api.js';
import { render } from '../main.js';
import { has, main, teamStartups } from '../session.js';
import { alertBox, breadcrumb, dataTable, date, esc, field, go, int, onSubmit, select, submit, toast } from '../ui.js';

const isoDay = (d) => d.toISOString().slice(0, 10);
const noon = (day) => new Date(day + 'T12:00:00Z').toISOString();
const lines = (text) => String(text || '').split('\n').map((x) => x.trim()).filter(Boolean);

async function committees() {
  const list = await api('GET', '/v1/committees');
  const meetings = list.meetings || [];
  const coord = has('coordinator');
  const options = coord ? (await api('GET', '/v1/startups?page_size=1000&order_by=name')).startups || [] : [];
  const in45 = new Date(Date.now() + 45 * 86400000);
  main().innerHTML = `
    <h1>Comités d'investissement</h1>
    <p>Au moins tous les six mois, et 30 à 45 jours avant la fin de l'enveloppe, le comité regarde ce que l'équipe avait promis
      et décide de la suite. L'équipe dépose sa demande ; la coordination établit la pré-lecture de chaque start-up.</p>
    ${dataTable('Comités', ['Date', 'Comité', "Start-ups à l'ordre du jour"], meetings.map((m) => [
    date(m.date), `<a href="/comites/${esc(m.id)}">${esc(m.title)}</a>`, int((m.startup_ids || []).length)]), 'committee-list')}
    ${coord ? `<form id="schedule" class="pep-form fr-mt-4w"><h2>Programmer un comité</h2>
      ${field('c-title', 'Intitulé', { name: 'title', required: true, value: 'Comité d\'investissement' })}
      ${field('c-date', 'Date', { name: 'date', type: 'date', required: true, value: isoDay(in45) })}
      ${field('c-invitees', 'Invités (un par ligne)', { name: 'invitees', type: 'textarea', hint: 'Par exemple : DGS, directeur de l\'innovation, sponsor' })}
      <div class="fr-input-group" data-field="startup_ids">
        <label class="fr-label" for="c-startup">Start-ups à l'ordre du jour<span class="fr-hint-text">Tapez un nom, choisissez, puis « Ajouter » ; ${int(options.length)} start-ups</span></label>
        <input class="fr-input" id="c-startup" list="c-startups" autocomplete="off">
        <datalist id="c-startups">${options.map((s) => `<option value="${esc(s.name)}" data-id="${esc(s.id)}"></option>`).join('')}</datalist>
        <button class="fr-btn fr-btn--secondary fr-btn--sm fr-mt-1w" type="button" id="c-add">Ajouter à l'ordre du jour</button>
        <ul id="c-agenda" class="fr-mt-1w"></ul>
      </div>
      ${submit('Programmer le comité')}</form>` : ''}`;
  const form = document.getElementById('schedule');
  if (!form) return;
  const agenda = [];
  const drawAgenda = () => {
    document.getElementById('c-agenda').innerHTML = agenda.map((s, i) => `<li>${esc(s.name)}
      <button class="fr-btn fr-btn--tertiary-no-outline fr-btn--sm" type="button" data-remove="${i}" aria-label="Retirer ${esc(s.name)} de l'ordre du jour">Retirer</button></li>`).join('');
  };
  document.getElementById('c-add').addEventListener('click', () => {
    const input = document.getElementById('c-startup');
    const s = options.find((o) => o.name === input.value) || options.find((o) => o.slug === input.value);
    if (!s) { toast(`Aucune start-up « ${input.value} »`, true); return; }
    if (!agenda.some((a) => a.id === s.id)) agenda.push(s);
    input.value = '';
    drawAgenda();
  });
  document.getElementById('c-agenda').addEventListener('click', (ev) => {
    const b = ev.target.closest('[data-remove]');
    if (b) { agenda.splice(Number(b.dataset.remove), 1); drawAgenda(); }
  });
  onSubmit(form, async (f) => {
    const m = await api('POST', '/v1/committees', {
      title: f.get('title'), date: noon(f.get('date')), invitees: lines(f.get('invitees')), startup_ids: agenda.map((s) => s.id),
    });
    toast('Comité programmé');
    go('/comites/' + m.id);
  });
}

function askForm(meeting, startupId, name, kpis, ask) {
  const crit = (ask && ask.criteria) || [];
  const rows = [0, 1, 2].map((i) => {
    const c = crit[i] || {};
    return `<fieldset class="fr-fieldset" id="criterion-${i}"><legend class="fr-fieldset__legend--regular">Critère de succès ${i + 1}</legend>
      ${select(`a-kpi-${i}`, 'Indicateur', `kpi_${i}`, [['', '—'], ...kpis.map((k) => [k.id, k.name])], { selected: c.kpi })}
      ${field(`a-target-${i}`, 'Valeur visée', { name: `target_${i}`, type: 'number', value: c.target ?? '', attrs: 'step="any"' })}
      ${field(`a-by-${i}`, 'Échéance', { name: `by_${i}`, type: 'date', value: c.by ? c.by.slice(0, 10) : '' })}
      ${field(`a-text-${i}`, 'En mots (facultatif)', { name: `text_${i}`, value: c.text || '' })}</fieldset>`;
  }).join('');
  return `<form id="ask" class="pep-form fr-mt-4w" data-startup="${esc(startupId)}"><h2>La demande de ${esc(name)}</h2>
    <p class="fr-text--sm">À déposer au plus tard une semaine avant le comité du ${date(meeting.date)} ; la déposer à nouveau la remplace.</p>
    ${field('a-team', "L'équipe pour la période (taille, profils)", { name: 'team', type: 'textarea', value: ask?.team || '' })}
    ${field('a-envelope', 'Enveloppe demandée pour six mois (euros)', { name: 'envelope_eur', type: 'number', value: ask?.envelope_eur || '', attrs: 'min="0" step="1"' })}
    ${field('a-hypotheses', 'Hypothèses à tester (une par ligne)', { name: 'hypotheses', type: 'textarea', value: (ask?.hypotheses || []).join('\n') })}
    ${rows}
    ${submit('Déposer la demande')}</form>`;
}

async function committee(id) {
  const d = await api('GET', '/v1/committees/' + encodeURIComponent(id));
  const m = d.meeting;
  const coord = has('coordinator');
  const asks = Object.fromEntries((d.asks || []).map((a) => [a.startup_id, a]));
  const reads = {};
  for (const r of d.prereads || []) (reads[r.startup_id] = reads[r.startup_id] || []).push(r);
  const ids = m.startup_ids || [];
  const names = d.startup_names || [];
  const mine = ids.filter((s) => teamStartups().includes(s));
  const kpisOf = {};
  await Promise.all(mine.map(async (s) => {
    kpisOf[s] = ((await api('GET', `/v1/startups/${encodeURIComponent(s)}/kpis`).catch(() => ({}))).kpis) || [];
  }));
  main().innerHTML = `
    ${breadcrumb([['/comites', 'Comités'], ['', m.title]])}
    <h1>${esc(m.title)} — ${date(m.date)}</h1>
    ${(m.invitees || []).length ? `<p>Invités : ${esc(m.invitees.join(', '))}</p>` : ''}
    ${dataTable("Ordre du jour", ['Start-up', "Demande de l'équipe", 'Pré-lecture'], ids.map((s, i) => {
    if (!coord && !teamStartups().includes(s)) return [esc(names[i] || s), '—', '—'];
    const a = asks[s];
    const r = (reads[s] || [])[reads[s]?.length - 1];
    return [`<a href="/startups/${esc(s)}">${esc(names[i] || s)}</a>`,
      a ? `déposée le ${date(a.submitted_at)}${a.envelope_eur ? ` — ${int(a.envelope_eur)} €` : ''}` : 'pas encore déposée',
      `${r ? `<a href="/prelectures/${esc(r.id)}">établie le ${date(r.issued_at)}</a>` : 'pas encore établie'}
       ${coord ? `<button class="fr-btn fr-btn--secondary fr-btn--sm" type="button" data-issue="${esc(s)}">${r ? 'Établir à nouveau' : 'Établir la pré-lecture'}</button>` : ''}`];
  }), 'agenda')}
    ${mine.map((s) => askForm(m, s, names[ids.indexOf(s)] || s, kpisOf[s], asks[s])).join('')}`;
  main().querySelectorAll('[data-issue]').forEach((b) => b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      const r = await api('POST', `/v1/committees/${encodeURIComponent(m.id)}/prereads/${encodeURIComponent(b.dataset.issue)}`);
      toast('Pré-lecture établie');
      go('/prelectures/' + r.id);
    } catch (e) {
      toast(e.message, true);
      b.disabled = false;
    }
  }));
  const form = document.getElementById('ask');
  if (form) {
    onSubmit(form, async (f) => {
      const criteria = [0, 1, 2].map((i) => ({
        kpi: f.get(`kpi_${i}`) || '', target: Number(f.get(`target_${i}`) || 0),
        by: f.get(`by_${i}`) ? noon(f.get(`by_${i}`)) : undefined, text: f.get(`text_${i}`) || '',
      })).filter((c) => c.kpi || c.text);
      await api('POST', `/v1/committees/${encodeURIComponent(m.id)}/asks/${encodeURIComponent(form.dataset.startup)}`, {
        ask: { team: f.get('team'), envelope_eur: Number(f.get('envelope_eur') || 0), hypotheses: lines(f.get('hypotheses')), criteria },
      });
      toast('Demande déposée');
      render();
    });
  }
}

// The pre-read's Markdown, drawn with the few forms it uses: headings, lists, paragraphs.
function markdown(doc) {
  const out = [];
  let list = false;
  for (const line of doc.split('\n')) {
    const h = /^(#{1,3}) (.*)$/.exec(line);
    if (list && !line.startsWith('- ')) { out.push('</ul>'); list = false; }
    if (h) out.push(`<h${h[1].length}>${esc(h[2])}</h${h[1].length}>`);
    else if (line.startsWith('- ')) { if (!list) { out.push('<ul>'); list = true; } out.push(`<li>${esc(line.slice(2))}</li>`); }
    else if (line.trim()) out.push(`<p>${esc(line)}</p>`);
  }
  if (list) out.push('</ul>');
  return out.join('\n');
}

async function preread(id) {
  const r = await api('GET', '/v1/prereads/' + encodeURIComponent(id));
  main().innerHTML = `
    ${breadcrumb([['/comites', 'Comités'], [`/comites/${r.meeting_id}`, 'Le comité'], ['', 'Pré-lecture']])}
    <p class="fr-text--sm">Établie le ${date(r.issued_at)} ; empreinte SHA-256 <code id="preread-hash">${esc(r.sha256)}</code>, inscrite au registre.</p>
    <article class="pep-preread" id="preread">${markdown(r.document)}</article>
    <button class="fr-btn fr-btn--secondary fr-mt-2w" type="button" id="check-ledger">Refaire à partir du registre et comparer</button>
    <div id="ledger-check" role="status" class="fr-mt-2w"></div>`;
  document.getElementById('check-ledger').addEventListener('click', async () => {
    const out = document.getElementById('ledger-check');
    try {
      const g = await api('GET', `/v1/startups/${encodeURIComponent(r.startup_id)}/prereads/${encodeURIComponent(r.id)}/ledger`);
      const same = g.matches && g.document === r.document;
      out.innerHTML = same
        ? alertBox('success', `Refaite à partir des ${int(g.records_folded)} entrées du registre qui la précèdent (entrée n° ${int(g.log_index)}) : identique, octet pour octet ; empreinte ${g.sha256}.`, 'Identique au registre')
        : alertBox('error', `Le registre donne l'empreinte ${g.sha256}, la pré-lecture enregistrée ${g.recorded_sha256}.`, 'Différente');
    } catch (e) {
      out.innerHTML = alertBox('warning', e.message, 'Pas encore vérifiable');
    }
  });
}

export { committee, committees, preread };
