// « Suivre » an idea, a challenge or a start-up: a toggle button (aria-pressed; its name does not
// change, its state is said next to it) that pep-notify honours — what happens to the subject
// reaches the follower (category « Ce que je suis » in Mes notifications). Whoever sees the page
// may follow it: the gateway checks the subject with its owner first.
import { api } from './api.js';
import { esc, toast } from './ui.js';

const THIS = { idea: 'cette idée', challenge: 'ce défi', startup: 'cette start-up' };
const STATE = { idea: 'Vous suivez cette idée', challenge: 'Vous suivez ce défi', startup: 'Vous suivez cette start-up' };

function stateText(type, on) {
  return on ? `${STATE[type]} : vous serez informé·e de ce qui lui arrive (réglage « Ce que je suis » dans Mes notifications).` : '';
}

// The button and its state line, pressed when the caller follows the subject already. Without
// pep-notify's answer, no button (rather than one that may lie).
async function followButton(type, id) {
  let on = false;
  try {
    const r = await api('GET', `/v1/notifications/follows?subject_type=${type}&subject_id=${encodeURIComponent(id)}`);
    on = (r.follows || []).length > 0;
  } catch (e) {
    return '';
  }
  return `<p class="pep-follow"><button type="button" id="follow" class="fr-btn fr-btn--secondary fr-btn--sm"
    aria-pressed="${on}" aria-describedby="follow-state" data-type="${esc(type)}" data-id="${esc(id)}">Suivre ${esc(THIS[type])}</button>
    <span id="follow-state" class="fr-text--sm fr-ml-1w">${esc(stateText(type, on))}</span></p>`;
}

// Wires the button rendered by followButton (if any): PUT to follow, DELETE to stop.
function wireFollow() {
  const b = document.getElementById('follow');
  if (!b) return;
  b.addEventListener('click', async () => {
    const { type, id } = b.dataset;
    const on = b.getAttribute('aria-pressed') === 'true';
    try {
      await api(on ? 'DELETE' : 'PUT', `/v1/notifications/follows/${type}/${encodeURIComponent(id)}`);
      b.setAttribute('aria-pressed', String(!on));
      document.getElementById('follow-state').textContent = stateText(type, !on);
      toast(on ? `Vous ne suivez plus ${THIS[type]}.` : `${STATE[type]}.`);
    } catch (e) {
      toast('Erreur : ' + e.message, true);
    }
  });
}

export { followButton, wireFollow };
