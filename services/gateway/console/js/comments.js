// Comments under an idea: whoever reads the idea reads and writes them (pep-ideas decides). One
// level of answers; the author edits for 15 minutes; anyone reports another's comment; a
// coordinator hides one with a reason, said in place of the text. Every action is a real button
// or form, so the thread is used with the keyboard alone; after an action the thread is read
// again and the focus goes back to the comment it concerned.
import { api, idempotencyKey } from './api.js';
import { has, me } from './session.js';
import { alertBox, esc, field, onSubmit, toast } from './ui.js';

const when = (ts) => (ts ? new Date(ts).toLocaleString('fr-FR', { dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/Paris' }) : '');
const editable = (c) => c.author_id === me.actor && !c.hidden && c.editable_until && new Date(c.editable_until) > new Date();
const plural = (n, one, many) => `${n} ${n > 1 ? many : one}`;

function oneComment(c, answers) {
  const who = c.author_id === me.actor ? `${esc(c.author_name)} (vous)` : esc(c.author_name);
  const text = c.hidden
    ? `<p class="fr-text--sm"><em>Commentaire masqué par la modération : ${esc(c.hidden_reason)}</em></p>${c.body ? `<p class="pep-hidden-text">${esc(c.body)}</p>` : ''}`
    : `<p>${esc(c.body)}</p>`;
  const actions = [];
  if (!c.parent_id && !c.hidden) actions.push(['reply', 'Répondre']);
  if (editable(c)) actions.push(['edit', 'Modifier']);
  if (c.author_id !== me.actor && !c.hidden && !c.reported_by_me) actions.push(['report', 'Signaler']);
  if (has('coordinator') && !c.hidden) actions.push(['hide', 'Masquer']);
  const reports = c.reports ? `<p class="fr-text--xs">${plural(c.reports, 'signalement', 'signalements')} : ${(c.report_reasons || []).map(esc).join(' ; ')}</p>` : '';
  return `<li class="pep-comment" id="comment-${esc(c.id)}" tabindex="-1">
    <p class="fr-text--xs fr-mb-0"><strong>${who}</strong> — ${when(c.created_at)}${c.edited_at ? ' (modifié)' : ''}${c.reported_by_me ? ' — vous l’avez signalé' : ''}</p>
    ${text}${reports}
    ${actions.length ? `<div class="fr-btns-group fr-btns-group--inline fr-btns-group--sm">${actions.map(([a, label]) =>
      `<button type="button" class="fr-btn fr-btn--tertiary fr-btn--sm" data-act="${a}" data-id="${esc(c.id)}">${label}</button>`).join('')}</div>` : ''}
    <div id="act-${esc(c.id)}"></div>
    ${answers.length ? `<ul class="pep-answers">${answers.map((a) => oneComment(a, [])).join('')}</ul>` : ''}</li>`;
}

// The section: the thread (each answer under its comment) and the form to write one.
async function commentsSection(ideaId, { closed = false } = {}) {
  let list;
  try {
    list = (await api('GET', `/v1/ideas/${encodeURIComponent(ideaId)}/comments`)).comments || [];
  } catch (e) {
    return `<section id="comments">${alertBox('error', 'Commentaires indisponibles : ' + e.message)}</section>`;
  }
  const top = list.filter((c) => !c.parent_id);
  return `<section id="comments" class="fr-mt-4w" aria-labelledby="comments-title">
    <h2 id="comments-title">Commentaires (${list.length})</h2>
    ${top.length ? `<ul class="pep-comments">${top.map((c) => oneComment(c, list.filter((a) => a.parent_id === c.id))).join('')}</ul>`
    : '<p>Pas encore de commentaire.</p>'}
    ${closed ? '' : `<form id="comment-form" class="pep-form" data-idea="${esc(ideaId)}">
      ${field('comment-body', 'Votre commentaire', { name: 'body', type: 'textarea', required: true,
    hint: 'Courriels et numéros de téléphone sont masqués avant publication. Modifiable pendant 15 minutes.' })}
      <div class="form-error"></div>
      <button class="fr-btn" type="submit">Publier le commentaire</button></form>`}</section>`;
}

const FORMS = {
  reply: { label: 'Votre réponse', name: 'body', button: 'Publier la réponse', done: 'Réponse publiée' },
  edit: { label: 'Votre commentaire modifié', name: 'body', button: 'Enregistrer', done: 'Commentaire modifié' },
  report: { label: 'Pourquoi signaler ce commentaire ?', name: 'reason', button: 'Signaler', done: 'Commentaire signalé à la modération' },
  hide: { label: 'Motif du masquage (affiché à tous)', name: 'reason', button: 'Masquer le commentaire', done: 'Commentaire masqué' },
};

// Wires the section rendered by commentsSection; `again` re-renders it after a change.
function wireComments(ideaId, again) {
  const section = document.getElementById('comments');
  if (!section) return;
  const refresh = async (focusId) => {
    section.outerHTML = await again();
    wireComments(ideaId, again);
    document.getElementById(focusId ? `comment-${focusId}` : 'comments-title')?.focus();
  };
  const form = document.getElementById('comment-form');
  if (form) {
    onSubmit(form, async (f) => {
      const c = await api('POST', `/v1/ideas/${encodeURIComponent(ideaId)}/comments`, {
        body: f.get('body'), author_name: me.display_name || me.actor, request_id: idempotencyKey('c-'),
      });
      toast('Commentaire publié');
      await refresh(c.id);
    });
  }
  section.querySelectorAll('button[data-act]').forEach((b) => b.addEventListener('click', () => {
    const { act, id } = b.dataset;
    const spec = FORMS[act];
    const slot = document.getElementById(`act-${id}`);
    const current = act === 'edit' ? b.closest('li').querySelector(':scope > p:not(.fr-text--xs)')?.textContent || '' : '';
    slot.innerHTML = `<form class="pep-form" id="form-${act}-${esc(id)}">
      ${field(`${act}-${id}`, spec.label, { name: spec.name, type: act === 'reply' || act === 'edit' ? 'textarea' : 'text', required: true, value: current })}
      <div class="form-error"></div>
      <div class="fr-btns-group fr-btns-group--inline fr-btns-group--sm">
        <button class="fr-btn fr-btn--sm" type="submit">${spec.button}</button>
        <button class="fr-btn fr-btn--secondary fr-btn--sm" type="button" data-cancel>Annuler</button></div></form>`;
    const f = slot.querySelector('form');
    f.querySelector('[data-cancel]').addEventListener('click', () => { slot.innerHTML = ''; b.focus(); });
    document.getElementById(`${act}-${id}`).focus();
    onSubmit(f, async (data) => {
      const value = data.get(spec.name);
      let focus = id;
      if (act === 'reply') {
        const c = await api('POST', `/v1/ideas/${encodeURIComponent(ideaId)}/comments`, {
          body: value, parent_id: id, author_name: me.display_name || me.actor, request_id: idempotencyKey('c-'),
        });
        focus = c.id;
      } else if (act === 'edit') {
        await api('PATCH', `/v1/comments/${encodeURIComponent(id)}`, { body: value });
      } else {
        await api('POST', `/v1/comments/${encodeURIComponent(id)}:${act}`, { reason: value });
      }
      toast(spec.done);
      await refresh(focus);
    });
  }));
}

export { commentsSection, wireComments };
