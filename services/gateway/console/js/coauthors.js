// Co-authors of an idea: its authors make a single-use invitation link (14 days) to send to a
// colleague; the colleague, signed in, opens it and joins — from then on an author like the
// first (reads, completes, is told of decisions; never on its jury).
import { api } from './api.js';
import { main, me } from './session.js';
import { alertBox, esc, field, go, onSubmit, toast } from './ui.js';

const isAuthor = (i) => i.author_id === me.actor || (i.coauthors || []).some((c) => c.account_id === me.actor);

// « avec X, Y » after the author's name, when the co-authors are shown.
const withCoauthors = (i) => ((i.coauthors || []).length ? `, avec ${(i.coauthors || []).map((c) => esc(c.name)).join(', ')}` : '');

// For the idea's authors: the invitation button and the link once made.
function coauthorsSection(i) {
  if (!isAuthor(i) || i.status === 'IDEA_STATUS_WITHDRAWN') return '';
  return `<section class="fr-mt-4w" aria-labelledby="coauthors-title"><h2 id="coauthors-title">Co-auteur·es</h2>
    <p>${(i.coauthors || []).length ? `Avec vous : ${(i.coauthors || []).map((c) => esc(c.name)).join(', ')}.` : 'Aucun·e co-auteur·e pour le moment.'}</p>
    <button type="button" id="invite" class="fr-btn fr-btn--secondary fr-btn--sm">Inviter un·e collègue</button>
    <div id="invitation" class="fr-mt-2w"></div>${creditSection(i)}</section>`;
}

// Retenue pour une start-up: each author says whether their name may appear on its public page.
function creditSection(i) {
  if (i.status !== 'IDEA_STATUS_SELECTED_FOR_EXPERIMENTATION') return '';
  const agreed = (i.public_credit || []).includes(me.actor);
  return `<h3 class="fr-h6 fr-mt-3w">Sur la page publique de la start-up</h3>
    <p id="credit-state">${agreed ? 'Votre nom y figure, avec l’idée.' : 'L’idée peut y figurer (si l’incubateur la publie) ; votre nom, seulement si vous l’acceptez.'}</p>
    <button type="button" id="credit" class="fr-btn fr-btn--secondary fr-btn--sm" data-consent="${agreed ? 'false' : 'true'}">${agreed ? 'Retirer mon nom' : 'Accepter que mon nom y figure'}</button>`;
}


function wireCoauthors(i) {
  document.getElementById('credit')?.addEventListener('click', async (ev) => {
    try {
      const consent = ev.currentTarget.dataset.consent === 'true';
      await api('POST', `/v1/ideas/${encodeURIComponent(i.id)}:public-credit`, { consent });
      toast(consent ? 'Votre nom figurera sur la page publique de la start-up.' : 'Votre nom ne figurera plus sur la page publique.');
      go(`/idees/${encodeURIComponent(i.id)}`);
    } catch (e) { toast('Erreur : ' + e.message, true); }
  });
  document.getElementById('invite')?.addEventListener('click', async () => {
    try {
      const r = await api('POST', `/v1/ideas/${encodeURIComponent(i.id)}/coauthor-invitations`);
      const link = `${location.origin}/idees/${encodeURIComponent(i.id)}?rejoindre=${r.code}`;
      const out = document.getElementById('invitation');
      out.innerHTML = `${field('invitation-link', 'Lien à transmettre à votre collègue (valable 14 jours, une seule fois)', { value: link, attrs: 'readonly' })}`;
      const input = document.getElementById('invitation-link');
      input.focus();
      input.select();
      toast('Invitation créée : transmettez le lien à votre collègue.');
    } catch (e) { toast('Erreur : ' + e.message, true); }
  });
}

// The page an invitation link opens, for someone who is not (yet) an author of the idea.
function joinPage(id, code) {
  main().innerHTML = `<h1>Rejoindre une idée</h1>
    <p>Un·e collègue vous invite à rejoindre son idée comme co-auteur·e : vous pourrez la lire et la
    compléter, et vous serez informé·e des décisions du jury.</p>
    <form id="join" class="pep-form">
      ${field('join-name', 'Votre nom, tel qu’il apparaîtra sur l’idée', { name: 'name', required: true, value: me.display_name || '' })}
      <div class="form-error"></div>
      <button class="fr-btn" type="submit">Rejoindre l’idée</button></form>
    ${me.role === 'public' ? alertBox('info', 'Connectez-vous d’abord : l’invitation est pour un agent.') : ''}`;
  onSubmit(document.getElementById('join'), async (f) => {
    await api('POST', `/v1/ideas/${encodeURIComponent(id)}:join`, { code, name: f.get('name') });
    toast('Vous êtes co-auteur·e de cette idée.');
    go(`/idees/${encodeURIComponent(id)}`);
  });
}

export { coauthorsSection, isAuthor, joinPage, wireCoauthors, withCoauthors };
