// The status page: polls GET /ui/api/status and redraws. A lost session sends the browser back to
// the login form; a failed poll keeps the last picture and says so.
import { renderStatus } from './render.js';

/** Between polls, ms: the pipeline's own rhythm is minutes, so a quarter of one is fresh enough. */
const REFRESH_MS = 15_000;
/** A poll unanswered this long is a server that cannot be reached, ms (it answers within ~12 s). */
const ANSWER_MS = 20_000;

const banner = document.getElementById('banner');
const updated = document.getElementById('updated');
let timer;

function say(text) {
  banner.textContent = text ?? '';
  banner.hidden = !text;
}

async function refresh() {
  clearTimeout(timer);
  try {
    const res = await fetch('/ui/api/status', { headers: { accept: 'application/json' }, cache: 'no-store', signal: AbortSignal.timeout(ANSWER_MS) });
    if (res.status === 401) {
      location.assign('/ui/login?ended=1');
      return;
    }
    if (!res.ok) throw new Error(`fieldhook answered ${res.status}`);
    const snapshot = await res.json();
    const problems = renderStatus(document, snapshot);
    updated.textContent = `Updated ${new Date(snapshot.generated_at).toLocaleTimeString()}`;
    updated.dataset.generatedAt = snapshot.generated_at;
    say(problems.length ? `Some data could not be read: ${problems.join('; ')}` : null);
  } catch (err) {
    const why = err.name === 'TimeoutError' ? `no answer within ${ANSWER_MS / 1000} s` : err.message;
    say(`Cannot reach fieldhook (${why}); showing the last data, trying again.`);
  }
  // Hidden tabs poll no more: the page catches up when it is shown again.
  if (!document.hidden) timer = setTimeout(refresh, REFRESH_MS);
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden) void refresh();
});
void refresh();
