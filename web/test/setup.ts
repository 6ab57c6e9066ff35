// Test environment gaps of happy-dom that Quasar relies on.
if (typeof window !== 'undefined' && !window.screen.orientation) {
  Object.defineProperty(window.screen, 'orientation', {
    configurable: true,
    value: Object.assign(new EventTarget(), { type: 'landscape-primary', angle: 0 }),
  })
}
