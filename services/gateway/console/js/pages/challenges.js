// The challenge's pages: challenges, one challenge (ideas, jury, decisions), the jury's own
// page, one idea with its scorecards.
import { allPages, api } from '../api.js';
import { coauthorsSection, isAuthor, joinPage, wireCoauthors, withCoauthors } from '../coauthors.js';
import { commentsSection, wireComments } from '../comments.js';
import { followButton, wireFollow } from '../follow.js';
import { accounts, calendar, challengeForms, ideaSection, onBehalfBox, wireChallenge, wireIdea } from '../ideaflows.js';
import { render } from '../main.js';
import { has, jurorChallenges, main, me } from '../session.js';
import { alertBox, badge, breadcrumb, dataTable, date, esc, field, go, int, longDate, num, onSubmit, select, submit, toast } from '../ui.js';
import { CHALLENGE_STATUS, IDEA_STATUS, IDEA_STATUS_ONE, VISIBILITY, word } from '../words.js';

async function challenges() {
  const data = await api('GET', '/v1/challenges');
  const rows = (data.challenges || []).map((c) => [
    `<a href="/defis/${esc(c.id)}">${esc(c.title)}</a>`, badge(word(CHALLENGE_STATUS, c.status), c.status === 'CHALLENGE_STATUS_OPEN' ? 'success' : ''),
    esc(c.theme), int((c.juror_ids || []).length)]);
  main().innerHTML = `
    <h1>Défis</h1>
    ${dataTable("Défis de l'incubateur", ['Titre', 'Statut', 'Thème', 'Jurés'], rows)}
    ${has('coordinator') ? `
    <h2 class="fr-mt-4w">Créer un défi</h2>
    <form id="new-challenge" class="pep-form">
      ${field('c-title', 'Titre du défi', { name: 'title', required: true })}
      ${field('c-theme', 'Thème', { name: 'theme', value: 'simplification' })}
      ${field('c-criteria', 'Critères (séparés par des virgules)', { name: 'criteria', value: 'impact, faisabilité' })}
      ${field('c-quorum', 'Quorum du jury', { name: 'jury_quorum', type: 'number', value: '1', attrs: 'min="1"' })}
      ${select('c-visibility', 'Qui lit les idées', 'visibility', Object.entries(VISIBILITY))}
      ${field('c-threshold', 'Soutiens qui présélectionnent une idée', { name: 'support_threshold', type: 'number', value: '0', attrs: 'min="0"', hint: '0 : aucun, le jury décide seul' })}
      ${`<div class="fr-checkbox-group fr-mt-2w"><input type="checkbox" id="c-blind" name="blind_review">
        <label class="fr-label" for="c-blind">Jury à l'aveugle<span class="fr-hint-text">Auteur·e et service cachés aux jurés jusqu'à la décision ; la coordination les voit.</span></label></div>`}
      <div class="fr-checkbox-group fr-mt-2w"><input type="checkbox" id="c-sealed" name="sealed_scoring">
        <label class="fr-label" for="c-sealed">Notes scellées<span class="fr-hint-text">Seule l'empreinte de chaque grille est inscrite au registre jusqu'à la levée des scellés ; chacun peut ensuite vérifier qu'aucune note n'a changé.</span></label></div>
      ${submit('Créer le défi')}
    </form>` : ''}`;
  const form = document.getElementById('new-challenge');
  if (form) {
    onSubmit(form, async (f) => {
      const c = await api('POST', '/v1/challenges', {
        title: f.get('title'), theme: f.get('theme'), jury_quorum: Number(f.get('jury_quorum')),
        visibility: f.get('visibility'), support_threshold: Number(f.get('support_threshold') || 0),
        blind_review: f.get('blind_review') === 'on', sealed_scoring: f.get('sealed_scoring') === 'on',
        criteria: String(f.get('criteria')).split(',').map((s) => s.trim()).filter(Boolean)
          .map((name) => ({ name, weight: 1 })),
      });
      toast('Défi créé');
      go('/defis/' + c.id);
    });
  }
}

const supportsText = (n) => (n ? `${int(n)} soutien${n > 1 ? 's' : ''}` : 'Aucun soutien pour le moment');
// Supports close once the jury has decided beyond the shortlist.
const supportable = (i) => i.status === 'IDEA_STATUS_SUBMITTED' || i.status === 'IDEA_STATUS_SHORTLISTED';

async function accountNames() {
  if (!has('coordinator')) return {};
  try {
    const list = await api('GET', '/v1/accounts');
    return Object.fromEntries((list.accounts || []).map((a) => [a.id, a.display_name || a.email]));
  } catch (e) { return {}; }
}

async function challenge(id) {
  const enc = encodeURIComponent(id);
  const c = await api('GET', '/v1/challenges/' + enc);
  const ideas = await allPages(`/v1/challenges/${enc}/ideas?page_size=500`, 'ideas');  // a challenge may gather thousands
  const openToAll = c.visibility === 'VISIBILITY_AGENTS';
  // Drafts are their authors' only: their column shows when the reader has some.
  const people = await accounts();  // coordinators name relais and reviewers
  const rare = new Set(['IDEA_STATUS_DRAFT', 'IDEA_STATUS_MERGED']);  // their column when there are some
  const columns = Object.keys(IDEA_STATUS).filter((s) => !rare.has(s) || ideas.some((i) => i.status === s)).map((s) => {
    const of = ideas.filter((i) => i.status === s);
    return `<section class="pep-column" aria-label="${esc(IDEA_STATUS[s])}">
      <h3 class="fr-h6">${esc(IDEA_STATUS[s])} <span class="fr-badge fr-badge--sm">${int(of.length)}</span></h3>
      <ul class="pep-cards">${of.map((i) => `<li><a href="/idees/${esc(i.id)}">${esc(i.title)}</a><br>
        <span class="fr-text--xs">${i.author_name ? `${esc(i.author_name)} — ${esc(i.department)}` : 'Auteur·e non affiché·e'}${openToAll ? ` — ${supportsText(i.supports)}` : ''}</span></li>`).join('')}</ul></section>`;
  }).join('');
  const onJury = (c.juror_ids || []).includes(me.actor);
  const isCoord = has('coordinator');
  let ranking = '';
  let progress = '';
  const sealedNow = c.sealed_scoring && !c.scores_revealed;
  if (isCoord || onJury) {
    const [r, cards, names] = await Promise.all([
      sealedNow ? { ideas: [], jury_quorum: c.jury_quorum, sealed: true } : api('GET', `/v1/challenges/${enc}/ranking`),
      api('GET', `/v1/challenges/${enc}/scores`),
      accountNames()]);
    ranking = r.sealed ? `<h2 class="fr-mt-4w">Classement</h2>
      <p id="sealed-state">Notes scellées : chaque grille n'est inscrite au registre que par son empreinte ; personne ne lit
      celles des autres et le classement sera calculé à la levée des scellés.</p>
      ${isCoord ? '<p><button class="fr-btn fr-btn--secondary" type="button" id="reveal">Lever les scellés</button></p>' : ''}`
      : `<h2 class="fr-mt-4w">Classement</h2>${c.sealed_scoring ? '<p>Notes descellées : chaque grille a été vérifiée contre son empreinte au registre.</p>' : ''}${dataTable(`Classement (quorum : ${r.jury_quorum} grille${r.jury_quorum > 1 ? 's' : ''})`,
      ['Rang', 'Idée', 'Statut', 'Moyenne pondérée /5', 'Écart-type (min – max)', 'Grilles', 'Soutiens'],
      (r.ideas || []).map((i) => [int(i.rank), `<a href="/idees/${esc(i.idea_id)}">${esc(i.title)}</a>`, esc(word(IDEA_STATUS_ONE, i.status)),
        i.scorecard_count ? num(i.weighted_mean, 2) : '—',
        i.scorecard_count > 1 ? `${num(i.dispersion || 0, 2)} (${num(i.min_score || 0, 2)} – ${num(i.max_score || 0, 2)})` : '—',
        `${int(i.scorecard_count)}${i.quorum_reached ? ' ' + badge('quorum atteint', 'success') : ''}${i.conflicts ? ` — ${int(i.conflicts)} déport${i.conflicts > 1 ? 's' : ''}` : ''}`,
        int(i.supports || 0)]), 'ranking')}`;
    // The jury's progress: for each juror, the ideas they scored and those still to score.
    const scored = {};
    for (const s of cards.scorecards || []) (scored[s.juror_id] ||= new Set()).add(s.idea_id);
    progress = `<h2 class="fr-mt-4w">Avancement du jury</h2>${dataTable('Idées évaluées par chaque juré',
      ['Juré', 'Idées évaluées', 'Reste à évaluer'],
      (c.juror_ids || []).map((j) => {
        const { done, left } = juryTally(ideas, scored[j] || new Set());
        return [esc(names[j] || (j === me.actor ? 'Vous' : j)),
          `${int(done)} <progress max="${done + left.length || 1}" value="${done}" aria-hidden="true"></progress>`, int(left.length)];
      }), 'jury-progress')}`;
  }
  const follow = await followButton('challenge', c.id);
  main().innerHTML = `
    ${breadcrumb([['/defis', 'Défis'], ['', c.title]])}
    <h1>Défi : ${esc(c.title)}</h1>
    ${follow}
    <p>Statut : <strong>${esc(word(CHALLENGE_STATUS, c.status))}</strong> — jurés : ${(c.juror_ids || []).length || 'aucun'}${onJury ? ' (dont vous)' : ''}
      — ${int(ideas.length)} idée${ideas.length > 1 ? 's' : ''}</p>
    ${isCoord ? `<ul class="fr-btns-group fr-btns-group--inline-md">
      ${c.status === 'CHALLENGE_STATUS_DRAFT' ? '<li><button class="fr-btn" type="button" id="open">Ouvrir le défi</button></li>' : ''}
      ${c.status === 'CHALLENGE_STATUS_OPEN' ? '<li><button class="fr-btn fr-btn--secondary" type="button" id="close">Clore le défi</button></li>' : ''}
    </ul>
    <p>Pour désigner un juré : <a href="/comptes">Comptes et droits</a>.</p>
    ${resultsLine(c)}
    <form id="results" class="pep-form"><h2 class="fr-h6">Annoncer les résultats ensemble</h2>
      ${field('r-at', "Date et heure de l'annonce", { name: 'results_at', type: 'datetime-local', required: true, attrs: 'step="1"',
    hint: "Les décisions prises d'ici là sont publiées toutes à ce moment : statuts, courriels, start-ups." })}
      <div class="form-error"></div>${submit("Programmer l'annonce")}</form>
    <form id="visibility" class="pep-form"><h2 class="fr-h6">Qui lit les idées</h2>
      ${select('v-visibility', 'Visibilité', 'visibility', Object.entries(VISIBILITY), { selected: openToAll ? 'VISIBILITY_AGENTS' : 'VISIBILITY_JURY' })}
      ${field('v-threshold', 'Soutiens qui présélectionnent une idée', { name: 'support_threshold', type: 'number', value: String(c.support_threshold || 0), attrs: 'min="0"', hint: '0 : aucun, le jury décide seul' })}
      ${`<div class="fr-checkbox-group fr-mt-2w"><input type="checkbox" id="v-blind" name="blind_review"${c.blind_review ? ' checked' : ''}>
        <label class="fr-label" for="v-blind">Jury à l'aveugle<span class="fr-hint-text">Auteur·e et service cachés aux jurés jusqu'à la décision ; la coordination les voit.</span></label></div>`}
      ${submit('Enregistrer la visibilité')}</form>
    ${challengeForms(c, people)}` : `<p class="fr-text--sm">${openToAll ? 'Les idées de ce défi sont lisibles par tous les agents, qui peuvent les soutenir.' : 'Les idées de ce défi ne sont lues que par leurs auteurs et le jury.'}${c.blind_review ? " Le jury les évalue à l'aveugle." : ''}</p>`}
    <h2>Idées par statut</h2><div class="pep-pipeline">${columns}</div>
    ${calendar(c, people)}
    ${ranking}${progress}
    ${(isCoord || has('agent')) && c.status === 'CHALLENGE_STATUS_OPEN' ? `
    <h2 class="fr-mt-4w">Déposer une idée</h2>
    <form id="new-idea" class="pep-form">
      ${field('i-title', "Titre de l'idée", { name: 'title', required: true })}
      ${field('i-problem', 'Problème constaté', { name: 'problem', type: 'textarea', required: true })}
      ${field('i-proposal', 'Proposition', { name: 'proposal', type: 'textarea', required: true })}
      <div id="similar" class="pep-similar" role="status" aria-live="polite"></div>
      ${field('i-author', 'Votre nom', { name: 'author_name', required: true })}
      ${field('i-dept', 'Direction ou service', { name: 'department', required: true })}
      ${field('i-email', 'Courriel professionnel', { name: 'contact_email', type: 'email', required: true })}
      ${openToAll ? `<div class="fr-checkbox-group fr-mt-2w"><input type="checkbox" id="i-hide" name="hide_author">
        <label class="fr-label" for="i-hide">Ne pas afficher mon nom ni mon service aux autres agents<span class="fr-hint-text">Le jury et la coordination les voient.</span></label></div>` : ''}
      ${onBehalfBox(c)}
      <input type="hidden" name="draft" value="">
      <ul class="fr-btns-group fr-btns-group--inline-md fr-mt-2w">
        <li><button class="fr-btn" type="submit">Déposer l'idée</button></li>
        <li><button class="fr-btn fr-btn--secondary" type="button" id="save-draft">Enregistrer comme brouillon</button></li></ul>
    </form>` : ''}`;
  document.getElementById('reveal')?.addEventListener('click', async () => {
    try {
      await api('POST', `/v1/challenges/${enc}:reveal-scores`, {});
      toast('Scellés levés : les grilles sont publiées, le classement est calculé.');
      render();
    } catch (e) { toast('Erreur : ' + e.message, true); }
  });
  const results = document.getElementById('results');
  if (results) {
    onSubmit(results, async (f) => {
      const at = new Date(String(f.get('results_at')));  // the browser's local time, Paris here
      if (isNaN(at)) throw new Error("results_at: une date et une heure sont attendues");
      await api('POST', `/v1/challenges/${enc}:schedule-results`, { results_at: at.toISOString() });
      toast('Annonce programmée');
      render();
    });
  }
  const transition = (verb) => async () => {
    try {
      await api('POST', `/v1/challenges/${enc}:${verb}`);
      toast(verb === 'open' ? 'Défi ouvert' : 'Défi clos');
      render();
    } catch (e) { toast('Erreur : ' + e.message, true); }
  };
  wireFollow();
  wireChallenge(c, people);
  const vis = document.getElementById('visibility');
  if (vis) {
    onSubmit(vis, async (f) => {
      await api('POST', `/v1/challenges/${enc}:visibility`, {
        visibility: f.get('visibility'), support_threshold: Number(f.get('support_threshold') || 0), blind_review: f.get('blind_review') === 'on',
      });
      toast('Visibilité enregistrée');
      render();
    });
  }
  document.getElementById('open')?.addEventListener('click', transition('open'));
  document.getElementById('close')?.addEventListener('click', transition('close'));
  const form = document.getElementById('new-idea');
  if (form) {
    compareWhileTyping(form, enc);
    onSubmit(form, async (f) => {
      const body = Object.fromEntries(f.entries());
      body.hide_author = f.get('hide_author') === 'on';
      body.draft = f.get('draft') === 'on';
      body.on_behalf = f.get('on_behalf') === 'on';
      form.elements.draft.value = '';
      const r = await api('POST', `/v1/challenges/${enc}/ideas`, body);
      toast(body.draft ? 'Brouillon enregistré : vous seul·e le voyez ; envoyez-le depuis « Mes idées ».'
        : 'Idée déposée' + ((r.similar_ideas || []).length ? ' (des idées proches existent)' : ''));
      render();
    });
    document.getElementById('save-draft').addEventListener('click', () => {
      form.elements.draft.value = 'on';
      form.requestSubmit();
    });
  }
}

// What a juror has scored of a challenge, and what is left: the ideas not decided beyond the
// shortlist that have no scorecard of theirs (withdrawn ones count for neither, nor their own
// ideas and those they stepped aside on).
function juryTally(ideas, scoredIds) {
  const live = ideas.filter((i) => i.status !== 'IDEA_STATUS_WITHDRAWN' && !isAuthor(i) &&
    !(i.conflicted_juror_ids || []).includes(me.actor));
  return {
    done: live.filter((i) => scoredIds.has(i.id)).length,
    left: live.filter((i) => !scoredIds.has(i.id) && (i.status === 'IDEA_STATUS_SUBMITTED' || i.status === 'IDEA_STATUS_SHORTLISTED')),
  };
}

// A juror's own page: the challenges they sit on, and for each the ideas they have yet to score.
async function jury() {
  const all = (await api('GET', '/v1/challenges')).challenges || [];
  const mine = all.filter((c) => (c.juror_ids || []).includes(me.actor) || jurorChallenges().includes(c.id));
  const sections = await Promise.all(mine.map(async (c) => {
    const enc = encodeURIComponent(c.id);
    const [ideas, cards] = await Promise.all([
      allPages(`/v1/challenges/${enc}/ideas?page_size=500`, 'ideas'), api('GET', `/v1/challenges/${enc}/scores`)]);
    const { done, left } = juryTally(ideas,
      new Set((cards.scorecards || []).filter((s) => s.juror_id === me.actor).map((s) => s.idea_id)));
    return `<section class="fr-mb-4w" aria-labelledby="jury-${esc(c.id)}">
      <h2 id="jury-${esc(c.id)}"><a href="/defis/${esc(c.id)}">${esc(c.title)}</a></h2>
      <p>${badge(word(CHALLENGE_STATUS, c.status))} Vous avez évalué ${int(done)} idée(s) ; ${left.length ? `il en reste ${int(left.length)} à évaluer` : 'il n\'en reste aucune'}.</p>
      ${left.length ? `<ul class="pep-todo">${left.map((i) => `<li><a href="/idees/${esc(i.id)}">${esc(i.title)}</a>
        <span class="fr-text--xs"> — ${esc(i.department)}</span></li>`).join('')}</ul>`
    : alertBox('success', 'Toutes les idées de ce défi ont votre évaluation.')}</section>`;
  }));
  main().innerHTML = `<h1>Mon jury</h1>
    ${sections.join('') || alertBox('info', "Vous n'êtes juré d'aucun défi pour l'instant.")}`;
}

async function idea(id) {
  const invitation = new URLSearchParams(location.search).get('rejoindre');
  let i;
  try {
    i = await api('GET', '/v1/ideas/' + encodeURIComponent(id));
  } catch (e) {
    if (invitation) { joinPage(id, invitation); return; }  // not readable before joining
    throw e;
  }
  if (invitation && !isAuthor(i)) { joinPage(id, invitation); return; }
  const c = await api('GET', '/v1/challenges/' + encodeURIComponent(i.challenge_id));
  let cards = [];
  const onJury = (c.juror_ids || []).includes(me.actor);
  if (has('coordinator') || onJury) {
    cards = (await api('GET', `/v1/ideas/${encodeURIComponent(id)}/scores`)).scorecards || [];
  }
  const mine = cards.find((s) => s.juror_id === me.actor);
  const stepped = (i.conflicted_juror_ids || []).includes(me.actor);
  const ownIdea = isAuthor(i);
  const withdrawn = i.status === 'IDEA_STATUS_WITHDRAWN';
  const merged = i.status === 'IDEA_STATUS_MERGED';
  const clarifying = (i.clarifications || []).some((q) => !q.answered_at);
  const thread = () => commentsSection(i.id, { closed: withdrawn || merged });
  const [names, follow, comments, others] = await Promise.all([accountNames(), followButton('idea', i.id), thread(),
    has('coordinator') ? allPages(`/v1/challenges/${encodeURIComponent(c.id)}/ideas?page_size=500`, 'ideas') : []]);
  const criteria = c.criteria || [];
  const decidable = !['IDEA_STATUS_WITHDRAWN', 'IDEA_STATUS_REJECTED', 'IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION',
    'IDEA_STATUS_MERGED', 'IDEA_STATUS_DRAFT'].includes(i.status) && !clarifying;
  main().innerHTML = `
    ${breadcrumb([['/defis', 'Défis'], ['/defis/' + c.id, c.title], ['', i.title]])}
    <h1>Idée : ${esc(i.title)}</h1>
    ${follow}
    ${(i.pending_decisions || []).map((d) => alertBox('info', `Décision enregistrée : ${word(IDEA_STATUS_ONE, d.outcome)}, publiée avec les résultats du défi le ${when(c.results_at)}.`)).join('')}
    <p>Statut : <strong>${esc(word(IDEA_STATUS_ONE, i.status))}</strong> —
       ${i.author_name ? `par ${esc(i.author_name)} (${esc(i.department)})${withCoauthors(i)}` : c.blind_review && onJury ? "auteur·e masqué·e au jury jusqu'à la décision" : 'auteur·e non affiché·e'}, déposée le ${longDate(i.submitted_at)}${i.hide_author && i.author_name ? ' — nom masqué aux autres agents' : ''}</p>
    ${c.visibility === 'VISIBILITY_AGENTS' ? `<p class="pep-support"><span id="supports">${supportsText(i.supports)}</span>
      ${i.author_id !== me.actor && has('agent') && supportable(i) ? `<button type="button" id="support" class="fr-btn fr-btn--sm fr-ml-1w" aria-pressed="${Boolean(i.supported_by_me)}">Soutenir cette idée</button>` : ''}</p>` : ''}
    ${ideaSection(i, c, others, ownIdea)}
    <h2>Problème</h2><p>${esc(i.problem)}</p><h2>Proposition</h2><p>${esc(i.proposal)}</p>
    ${cards.length ? `<h2>Grilles d'évaluation</h2>${dataTable('Évaluations du jury', ['Juré', 'Note pondérée /5', 'Commentaire', 'Le'],
      cards.map((s) => [esc(names[s.juror_id] || (s.juror_id === me.actor ? 'Vous' : s.juror_id)),
        (s.scores || []).length ? num(s.weighted_score, 2) : 'scellée', esc(s.comment), date(s.scored_at)]))}` : ''}
    ${i.status === 'IDEA_STATUS_DRAFT' ? `${alertBox('info', "Brouillon : vous seul·e (et vos co-auteur·es) le voyez. Personne d'autre ne le lit avant son envoi.")}
      ${c.status === 'CHALLENGE_STATUS_OPEN' ? '<p><button type="button" id="send-draft" class="fr-btn">Envoyer l’idée au jury</button></p>' : '<p>Le défi n’est pas encore ouvert : vous pourrez l’envoyer à son ouverture.</p>'}
      <p><button type="button" id="discard-draft" class="fr-btn fr-btn--tertiary fr-btn--sm">Supprimer le brouillon</button></p>` : ''}
    ${onJury && stepped ? alertBox('info', "Vous vous êtes déporté·e sur cette idée (conflit d'intérêts) : votre grille et votre voix ne comptent pas pour elle.") : ''}
    ${onJury && !stepped && !ownIdea ? `<p><button type="button" id="conflict" class="fr-btn fr-btn--tertiary fr-btn--sm">Me déporter (conflit d'intérêts)</button></p>` : ''}
    ${onJury && !stepped && !ownIdea && !clarifying && !merged ? `<h2 class="fr-mt-4w">${mine ? 'Modifier mon évaluation' : 'Évaluer'}</h2><form id="score" class="pep-form">
      ${criteria.map((k, n) => field(`s-${n}`, `Note « ${k.name} » (0 à 5)`, { name: k.name, type: 'number', required: true,
    hint: `Poids ${num(k.weight, 0)}`, attrs: 'min="0" max="5" step="1"',
    value: mine ? String((mine.scores || []).find((x) => x.criterion === k.name)?.score ?? '') : '' })).join('')}
      ${field('s-comment', 'Commentaire', { name: '__comment', type: 'textarea', value: mine ? mine.comment : '' })}
      ${submit("Enregistrer l'évaluation")}</form>` : ''}
    ${has('coordinator') && decidable ? `<h2 class="fr-mt-4w">Décider</h2><form id="decide" class="pep-form">
      ${select('d-outcome', 'Décision', 'decision', [['IDEA_STATUS_SHORTLISTED', 'Présélectionner'], ['IDEA_STATUS_AWARDED', 'Primer'],
    ['IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION', 'Retenir pour expérimentation'], ['IDEA_STATUS_REJECTED', 'Écarter']])}
      ${field('d-rationale', 'Motif', { name: 'rationale' })}
      ${field('d-prize', 'Prix (si primée)', { name: 'prize' })}
      ${submit('Enregistrer la décision')}</form>` : ''}
    ${ownIdea && (clarifying || (i.status === 'IDEA_STATUS_SUBMITTED' && c.status === 'CHALLENGE_STATUS_OPEN') || (i.status === 'IDEA_STATUS_DRAFT' && c.status !== 'CHALLENGE_STATUS_CLOSED')) ? `
    <h2 class="fr-mt-4w" id="edit">Modifier mon idée</h2>
    <p class="fr-text--sm">Jusqu'à la clôture du défi ; ensuite le jury l'examine telle qu'elle est.</p>
    <form id="edit-idea" class="pep-form">
      ${field('e-title', "Titre de l'idée", { name: 'title', required: true, value: i.title })}
      ${field('e-problem', 'Problème constaté', { name: 'problem', type: 'textarea', required: true, value: i.problem })}
      ${field('e-proposal', 'Proposition', { name: 'proposal', type: 'textarea', required: true, value: i.proposal })}
      <div class="form-error"></div>${submit('Enregistrer les modifications')}</form>
    ${i.status === 'IDEA_STATUS_SUBMITTED' ? `<form id="withdraw-idea" class="pep-form fr-mt-2w">
      ${field('w-reason', 'Retirer mon idée : pourquoi ? (facultatif)', { name: 'reason' })}
      <div class="form-error"></div>
      <button class="fr-btn fr-btn--secondary" type="submit">Retirer mon idée</button></form>` : ''}` : ''}
    ${coauthorsSection(i)}
    ${comments}`;
  wireFollow();
  wireCoauthors(i);
  wireIdea(i);
  document.getElementById('send-draft')?.addEventListener('click', async () => {
    try {
      await api('POST', `/v1/ideas/${encodeURIComponent(id)}:submit`);
      toast('Idée envoyée au jury');
      render();
    } catch (e) { toast('Erreur : ' + e.message, true); }
  });
  document.getElementById('discard-draft')?.addEventListener('click', async () => {
    if (!window.confirm('Supprimer ce brouillon ? Il ne pourra pas être retrouvé.')) return;
    try {
      await api('DELETE', `/v1/ideas/${encodeURIComponent(id)}`);
      toast('Brouillon supprimé');
      go('/mes-idees');
    } catch (e) { toast('Erreur : ' + e.message, true); }
  });
  const editForm = document.getElementById('edit-idea');
  if (editForm) {
    onSubmit(editForm, async (f) => {
      await api('PATCH', `/v1/ideas/${encodeURIComponent(id)}`, Object.fromEntries(f.entries()));
      toast('Idée modifiée');
      render();
    });
    const withdraw = document.getElementById('withdraw-idea');
    if (withdraw) onSubmit(withdraw, async (f) => {
      await api('POST', `/v1/ideas/${encodeURIComponent(id)}:withdraw`, { reason: f.get('reason') || '' });
      toast('Idée retirée : elle ne sera pas examinée par le jury.');
      render();
    });
  }
  wireComments(i.id, thread);
  const support = document.getElementById('support');
  if (support) {
    support.addEventListener('click', async () => {
      const on = support.getAttribute('aria-pressed') === 'true';
      try {
        const r = await api(on ? 'DELETE' : 'PUT', `/v1/ideas/${encodeURIComponent(id)}/support`);
        support.setAttribute('aria-pressed', String(!on));
        document.getElementById('supports').textContent = supportsText(r.supports);
        toast(on ? 'Soutien retiré' : 'Vous soutenez cette idée');
      } catch (e) { toast('Erreur : ' + e.message, true); }
    });
  }
  document.getElementById('conflict')?.addEventListener('click', async () => {
    try {
      await api('POST', `/v1/ideas/${encodeURIComponent(id)}:declare-conflict`);
      toast("Vous êtes déporté·e sur cette idée : le reste du jury l'évalue.");
      render();
    } catch (e) { toast('Erreur : ' + e.message, true); }
  });
  const score = document.getElementById('score');
  if (score) {
    onSubmit(score, async (f) => {
      await api('POST', `/v1/ideas/${encodeURIComponent(id)}/scores`, {
        scores: criteria.map((k) => ({ criterion: k.name, score: Number(f.get(k.name)) })),
        comment: f.get('__comment') || '',
      });
      toast('Évaluation enregistrée');
      render();
    });
  }
  const decide = document.getElementById('decide');
  if (decide) {
    onSubmit(decide, async (f) => {
      await api('POST', `/v1/ideas/${encodeURIComponent(id)}:decide`, Object.fromEntries(f.entries()));
      toast(c.results_at && !c.results_announced ? `Décision enregistrée : publiée le ${when(c.results_at)} avec les autres` : 'Décision enregistrée');
      render();
    });
  }
}

// A date and time as people in Nice read it.
const when = (ts) => (ts ? new Date(ts).toLocaleString('fr-FR', { dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/Paris' }) : '');

// Where the challenge's announcement stands, for coordinators.
function resultsLine(c) {
  if (!c.results_at) return '';
  if (c.results_announced) return `<p>Résultats annoncés le ${when(c.results_at)}.</p>`;
  const n = c.pending_decisions || 0;
  return `<p id="results-state">Résultats annoncés ensemble le <strong>${when(c.results_at)}</strong> : ${n} décision${n > 1 ? 's' : ''} en attente.</p>`;
}

// « Mes idées »: every idea of mine across challenges, its status, and the jury's decision with
// its reasons once taken (they are the author's to read).
async function myIdeas() {
  const [mine, list] = await Promise.all([
    allPages(`/v1/ideas?author_id=${encodeURIComponent(me.actor)}&page_size=500`, 'ideas'),
    api('GET', '/v1/challenges')]);
  const titles = Object.fromEntries((list.challenges || []).map((c) => [c.id, c.title]));
  const rows = mine.map((i) => [
    `<a href="/idees/${esc(i.id)}">${esc(i.title)}</a>`,
    `<a href="/defis/${esc(i.challenge_id)}">${esc(titles[i.challenge_id] || 'Défi')}</a>`,
    esc(word(IDEA_STATUS_ONE, i.status)),
    i.last_decision && i.last_decision.rationale ? esc(i.last_decision.rationale) + (i.last_decision.prize ? ` (${esc(i.last_decision.prize)})` : '') : '—',
    int(i.supports || 0), date(i.submitted_at)]);
  main().innerHTML = `<h1>Mes idées</h1>
    <p>Toutes les idées que vous avez déposées, et la décision du jury avec ses motifs lorsqu'elle est prise.
    Tant que son défi est ouvert, une idée se modifie ou se retire depuis sa page.</p>
    ${dataTable('Mes idées', ['Idée', 'Défi', 'Statut', 'Décision du jury', 'Soutiens', 'Déposée le'], rows, 'my-ideas')}`;
}

// While the idea is typed: the look-alikes of the challenge (those the person may read), so a
// colleague's idea can be supported rather than filed twice.
function compareWhileTyping(form, enc) {
  const out = document.getElementById('similar');
  let timer = null;
  const look = async () => {
    const title = form.querySelector('[name=title]').value.trim();
    if (title.split(/\s+/).length < 3) { out.innerHTML = ''; return; }
    try {
      const r = await api('POST', `/v1/challenges/${enc}/similar-ideas`, {
        title, problem: form.querySelector('[name=problem]').value, proposal: form.querySelector('[name=proposal]').value });
      const hints = r.similar_ideas || [];
      out.innerHTML = hints.length ? `<p class="fr-text--sm fr-mb-1v">Des idées proches existent déjà :</p><ul>${hints.map((h) =>
        `<li><a href="/idees/${esc(h.idea_id)}">${esc(h.title)}</a> (${int(Math.round(h.similarity * 100))} % de mots en commun)</li>`).join('')}</ul>` : '';
    } catch (e) { out.innerHTML = ''; }
  };
  form.addEventListener('input', (ev) => {
    if (!['title', 'problem', 'proposal'].includes(ev.target.name)) return;
    clearTimeout(timer);
    timer = setTimeout(look, 400);
  });
}

export {
  accountNames, challenge, challenges, idea, jury, juryTally, myIdeas,
};
