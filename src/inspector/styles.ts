/**
 * The inspector's style sheet: plain CSS, every class prefixed `dgi-`, colours in custom
 * properties so that a host can restyle it (`.dgi-root { --dgi-accent: ... }`).
 */

/**
 * The CSS of the inspector's components. `SessionInspector` renders it unless told not to;
 * a host that renders the components one by one can put it in a `<style>` itself.
 * @example <style>{INSPECTOR_CSS}</style>
 */
export const INSPECTOR_CSS = `
.dgi-root {
  --dgi-bg: #f6f7f9; --dgi-panel: #fff; --dgi-text: #1d2330; --dgi-muted: #667085; --dgi-border: #dfe3ea;
  --dgi-accent: #2f6fdb; --dgi-accent-soft: #e8f0fd; --dgi-ok: #2e9d5b; --dgi-warning: #d98a00; --dgi-over: #d0382b;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--dgi-text);
  background: var(--dgi-bg);
  min-height: 100vh; box-sizing: border-box;
}
.dgi-root *, .dgi-root *::before, .dgi-root *::after { box-sizing: inherit; }
.dgi-root h1 { font-size: 17px; margin: 0; }
.dgi-root h2 { font-size: 15px; margin: 0 0 10px; }
.dgi-root h3 { font-size: 14px; margin: 0; }
.dgi-root button {
  font: inherit; padding: 5px 12px; border: 1px solid var(--dgi-border); border-radius: 6px; background: #fff;
  color: inherit; cursor: pointer;
}
.dgi-root button:hover:not(:disabled) { border-color: var(--dgi-accent); }
.dgi-root button:disabled { opacity: .55; cursor: default; }
.dgi-root button:focus-visible, .dgi-root select:focus-visible, .dgi-root input:focus-visible {
  outline: 2px solid var(--dgi-accent); outline-offset: 1px;
}
.dgi-root select, .dgi-root input {
  font: inherit; padding: 4px 6px; border: 1px solid var(--dgi-border); border-radius: 6px; background: #fff;
  width: 100%;
}
.dgi-muted { color: var(--dgi-muted); font-weight: normal; }
.dgi-top { display: flex; align-items: center; gap: 16px; padding: 12px 20px; background: #1d2330; color: #fff; }
.dgi-top .dgi-muted { color: #aab3c5; }
.dgi-live { font-size: 13px; color: #aab3c5; }
.dgi-live[data-live="true"]::before { content: "●"; color: #4cd287; margin-right: 5px; }
.dgi-live[data-live="false"]::before { content: "○"; margin-right: 5px; }
.dgi-alert {
  margin: 12px 20px 0; padding: 10px 14px; border: 1px solid #f1b5ae; background: #fdecea; color: #8c1d13;
  border-radius: 8px; display: flex; gap: 12px; align-items: flex-start;
}
.dgi-alert:empty { margin: 0; padding: 0; border: 0; }
.dgi-alert p { margin: 0; flex: 1; white-space: pre-wrap; word-break: break-word; }
.dgi-layout {
  display: grid; grid-template-columns: 320px minmax(0, 1fr); gap: 16px; padding: 16px 20px; align-items: start;
}
.dgi-sidebar {
  position: sticky; top: 16px; display: flex; flex-direction: column; gap: 12px; max-height: calc(100vh - 32px);
  overflow: auto;
}
.dgi-main { display: flex; flex-direction: column; gap: 16px; min-width: 0; }
.dgi-panel {
  background: var(--dgi-panel); border: 1px solid var(--dgi-border); border-radius: 10px; padding: 14px 16px;
}
.dgi-columns { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; align-items: start; }
@media (max-width: 1100px) { .dgi-columns { grid-template-columns: minmax(0, 1fr); } }
.dgi-filters {
  margin: 0; padding: 10px 12px; border: 1px solid var(--dgi-border); border-radius: 10px; background: var(--dgi-panel);
  display: grid; grid-template-columns: 1fr 1fr; gap: 8px;
}
.dgi-filters legend { font-weight: 600; padding: 0 4px; }
.dgi-filters > div { display: flex; flex-direction: column; gap: 2px; }
.dgi-filters label { font-size: 12px; color: var(--dgi-muted); }
.dgi-list { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 6px; }
.dgi-root .dgi-list__item {
  width: 100%; text-align: left; padding: 8px 10px; border-radius: 8px; display: flex; flex-direction: column; gap: 4px;
}
.dgi-root .dgi-list__item[aria-current="true"] { border-color: var(--dgi-accent); background: var(--dgi-accent-soft); }
.dgi-list__label { font-weight: 600; word-break: break-word; }
.dgi-list__meta {
  display: flex; gap: 8px; align-items: center; font-size: 12px; color: var(--dgi-muted); flex-wrap: wrap;
}
.dgi-state {
  display: inline-block; padding: 0 8px; border-radius: 999px; font-size: 12px; font-weight: 600; background: #eef0f4;
  color: #475467;
}
.dgi-state--idle { background: #e5f5ec; color: #1f7a45; }
.dgi-state--appending { background: var(--dgi-accent-soft); color: #1d4fa8; }
.dgi-state--compacting { background: #fff3d6; color: #8a5700; }
.dgi-state--failed { background: #fdecea; color: #a12a1f; }
.dgi-tag {
  display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 11px; background: #eef0f4; color: #475467;
  text-transform: uppercase; letter-spacing: .03em;
}
.dgi-toggle {
  display: inline-flex; gap: 4px; align-items: center; font-size: 12px; color: var(--dgi-muted); margin-bottom: 6px;
}
.dgi-root .dgi-toggle input { width: auto; }
.dgi-message--internal { opacity: .75; border-style: dashed; }
.dgi-level--warning { color: var(--dgi-warning); font-weight: 600; }
.dgi-level--over { color: var(--dgi-over); font-weight: 600; }
.dgi-status__head { display: flex; gap: 12px; align-items: baseline; flex-wrap: wrap; margin-bottom: 8px; }
.dgi-status__head h2 { margin: 0; }
.dgi-status__facts { display: flex; gap: 28px; margin-bottom: 12px; flex-wrap: wrap; }
.dgi-fact__name { color: var(--dgi-muted); margin-right: 4px; }
.dgi-facts {
  display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 6px 16px; margin: 10px 0 0;
}
.dgi-facts dt { font-size: 12px; color: var(--dgi-muted); }
.dgi-facts dd { margin: 0; }
.dgi-breakdown { font-size: 12px; margin: 6px 0 0; }
.dgi-session-error { margin: 10px 0 0; padding: 8px 10px; border-radius: 6px; background: #fdecea; color: #8c1d13; }
.dgi-gauge__head { display: flex; justify-content: space-between; gap: 12px; margin-bottom: 4px; }
.dgi-gauge__track { position: relative; height: 14px; border-radius: 7px; background: #eceff3; overflow: hidden; }
.dgi-gauge__fill { height: 100%; background: var(--dgi-ok); transition: width .3s ease; }
.dgi-gauge--warning .dgi-gauge__fill { background: var(--dgi-warning); }
.dgi-gauge--over .dgi-gauge__fill { background: var(--dgi-over); }
.dgi-gauge__threshold { position: absolute; top: 0; bottom: 0; width: 2px; background: #1d2330; opacity: .6; }
.dgi-gauge__note { margin: 4px 0 0; font-size: 12px; color: var(--dgi-muted); }
.dgi-gauge__warning { margin: 4px 0 0; font-weight: 600; color: var(--dgi-warning); }
.dgi-gauge--over .dgi-gauge__warning { color: var(--dgi-over); }
.dgi-actions__row { display: flex; gap: 8px; align-items: flex-end; flex-wrap: wrap; }
.dgi-keep { display: flex; flex-direction: column; font-size: 12px; color: var(--dgi-muted); width: 150px; }
.dgi-root .dgi-danger-outline { border-color: #f1b5ae; color: #a12a1f; }
.dgi-root .dgi-danger { background: var(--dgi-over); border-color: var(--dgi-over); color: #fff; }
.dgi-notice { margin: 8px 0 0; min-height: 1.45em; color: var(--dgi-muted); }
.dgi-error { margin: 8px 0 0; color: #8c1d13; }
.dgi-dialog {
  border: 1px solid var(--dgi-border); border-radius: 12px; padding: 20px 22px; max-width: 460px;
  box-shadow: 0 12px 40px rgba(16, 24, 40, .25);
}
.dgi-dialog::backdrop { background: rgba(16, 24, 40, .45); }
.dgi-dialog__buttons { display: flex; justify-content: flex-end; gap: 8px; margin-top: 16px; }
.dgi-section { border-top: 1px solid var(--dgi-border); padding: 6px 0; }
.dgi-root .dgi-section__toggle { border: none; background: none; padding: 2px 0; font-weight: 600; }
.dgi-count {
  display: inline-block; min-width: 20px; padding: 0 6px; border-radius: 999px; background: #eef0f4; font-size: 12px;
  text-align: center;
}
.dgi-items { margin: 4px 0 4px; padding-left: 22px; }
.dgi-items li { margin: 2px 0; word-break: break-word; }
.dgi-check--passed strong { color: var(--dgi-ok); }
.dgi-check--failed strong { color: var(--dgi-over); }
.dgi-records { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 8px; }
.dgi-record { border: 1px solid var(--dgi-border); border-radius: 8px; padding: 8px 10px; }
.dgi-record__head { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.dgi-record__figures {
  display: grid; grid-template-columns: repeat(4, auto); gap: 2px 14px; margin: 6px 0 0; justify-content: start;
}
.dgi-record__figures dt { font-size: 11px; color: var(--dgi-muted); }
.dgi-record__figures dd { margin: 0; white-space: nowrap; }
.dgi-history { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 6px; }
.dgi-message {
  border: 1px solid var(--dgi-border); border-left: 4px solid var(--dgi-accent); border-radius: 6px; padding: 6px 10px;
}
.dgi-message--user { border-left-color: #7a5af8; }
.dgi-message--archived { background: #fafbfc; opacity: .8; }
.dgi-message__meta { display: flex; gap: 10px; font-size: 12px; color: var(--dgi-muted); align-items: center; }
.dgi-message__text {
  margin: 4px 0 0; white-space: pre-wrap; word-break: break-word;
  font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
}
.dgi-message summary { cursor: pointer; list-style: none; }
.dgi-cut {
  display: flex; align-items: center; gap: 10px; color: #8a5700; font-size: 12px; font-weight: 600; margin: 4px 0;
}
.dgi-cut::before, .dgi-cut::after { content: ""; flex: 1; border-top: 2px dashed #e0b552; }
.dgi-empty { padding: 40px; text-align: center; color: var(--dgi-muted); }
.dgi-scroll {
  position: relative; height: min(70vh, 560px); overflow-y: auto; overflow-x: hidden;
  border: 1px solid var(--dgi-border); border-radius: 8px; background: #fcfcfd;
}
.dgi-scroll .dgi-history { position: relative; display: block; }
.dgi-row { position: absolute; left: 6px; right: 6px; overflow: hidden; }
.dgi-history .dgi-cut { margin: 0; }
.dgi-message--loading { border-left-color: var(--dgi-border); color: var(--dgi-muted); }
.dgi-message--highlight { outline: 2px solid var(--dgi-accent); }
.dgi-message-hidden {
  display: flex; align-items: center; font-size: 12px; color: var(--dgi-muted); font-style: italic; padding-left: 10px;
}
.dgi-message__meta { flex-wrap: wrap; }
.dgi-message__buttons { margin-left: auto; display: inline-flex; gap: 6px; }
.dgi-root .dgi-link { border: none; background: none; padding: 0 2px; color: var(--dgi-accent); font-size: 12px; }
.dgi-message__preview {
  margin: 2px 0 0; font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre-wrap;
  word-break: break-word; display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical; overflow: hidden;
}
.dgi-search {
  display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr) minmax(0, 1fr); gap: 8px; margin-bottom: 8px;
}
.dgi-search label, .dgi-jump { display: flex; flex-direction: column; font-size: 12px; color: var(--dgi-muted); }
.dgi-history__tools { display: flex; gap: 8px; align-items: flex-end; flex-wrap: wrap; margin-bottom: 8px; }
.dgi-history__tools .dgi-toggle { margin: 0 auto 0 0; }
.dgi-jump select { max-width: 260px; }
.dgi-opened {
  margin-top: 10px; border: 1px solid var(--dgi-border); border-radius: 8px; padding: 8px 10px; max-height: 50vh;
  overflow: auto;
}
.dgi-diff__section { margin-top: 8px; }
.dgi-diff--added { color: #1f7a45; }
.dgi-diff--superseded { color: #8a5700; }
.dgi-diff--dropped { color: #a12a1f; text-decoration: line-through; }
.dgi-timeline summary { cursor: pointer; }
.dgi-timeline summary h2 { display: inline; }
.dgi-chart { width: 100%; height: auto; display: block; margin-top: 8px; }
.dgi-chart__axis { stroke: #98a2b3; stroke-width: 1; }
.dgi-chart__label { font-size: 11px; fill: var(--dgi-muted); }
.dgi-chart__line { fill: none; stroke: var(--dgi-accent); stroke-width: 1.5; }
.dgi-chart__threshold { stroke: var(--dgi-warning); stroke-dasharray: 6 4; stroke-width: 1.5; }
.dgi-chart__limit { stroke: var(--dgi-over); stroke-width: 1.5; }
.dgi-chart__mark line { stroke: #8a5700; stroke-width: 2; }
.dgi-chart__mark circle { fill: #fff; stroke: #8a5700; stroke-width: 1.5; }
.dgi-chart__legend { display: flex; gap: 14px; flex-wrap: wrap; font-size: 12px; margin: 4px 0 0; }
.dgi-key::before {
  content: ""; display: inline-block; width: 18px; height: 0; margin-right: 5px; vertical-align: middle;
  border-top: 2px solid var(--dgi-accent);
}
.dgi-key--threshold::before { border-top: 2px dashed var(--dgi-warning); }
.dgi-key--limit::before { border-top-color: var(--dgi-over); }
.dgi-timeline__marks { margin: 6px 0 0; padding-left: 20px; font-size: 12px; }
.dgi-progress { border-color: #e0b552; background: #fffaf0; }
.dgi-progress__text { margin: 0; flex: 1; }
@media (max-width: 760px) {
  .dgi-top { flex-wrap: wrap; gap: 6px 12px; padding: 10px 12px; }
  .dgi-alert { margin: 8px 12px 0; }
  .dgi-layout { grid-template-columns: minmax(0, 1fr); padding: 10px 12px; gap: 12px; }
  .dgi-sidebar { position: static; max-height: none; }
  .dgi-panel { padding: 10px 12px; }
  .dgi-search { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
  .dgi-search label:first-child { grid-column: 1 / -1; }
  .dgi-record__figures { grid-template-columns: repeat(2, auto); }
  .dgi-keep { width: auto; flex: 1 1 130px; }
  .dgi-status__facts { gap: 10px 20px; }
}
`;
