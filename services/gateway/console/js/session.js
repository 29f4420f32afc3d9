// Who is signed in (GET /v1/me), and what that lets them see.

const main = () => document.getElementById('main');
const NOBODY = { role: 'public', roles: [], actor: '', scope: '', via: '' };
let me = NOBODY;
// Set once at start and again when a session ends; read everywhere.
function setMe(who) { me = who; }
const has = (role) => (me.roles || []).includes(role);
const teamStartups = () => (me.scope || '').split(',').filter((s) => s.startsWith('startup:')).map((s) => s.slice(8));
const jurorChallenges = () => (me.scope || '').split(',').filter((s) => s.startsWith('challenge:')).map((s) => s.slice(10));

export {
  NOBODY, has, jurorChallenges, main, me, setMe,
  teamStartups,
};
