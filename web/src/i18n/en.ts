// English messages: the reference language. fr.ts must have exactly the same
// keys and placeholders (enforced by test/i18n.test.ts and the type below).
const en = {
  app: {
    name: 'CO2 Calculator',
    menu: 'Menu',
    language: 'Language',
    skipToContent: 'Skip to content',
  },
  languages: {
    en: 'English',
    fr: 'Français',
  },
  nav: {
    workspace: 'Workspace',
    about: 'About',
    login: 'Sign in',
  },
  login: {
    title: 'Sign in',
    intro: 'Sign in with your institutional account to enter and review your unit’s carbon footprint.',
    signIn: 'Sign in',
    error: 'Sign-in failed ({code}). Please try again.',
    errors: {
      access_denied: 'Access was denied by the identity provider.',
      session_expired: 'Your session has expired. Please sign in again.',
    },
  },
  workspace: {
    title: 'Workspace',
    placeholder: 'Choose a unit and a year here. This page is not available yet.',
  },
  about: {
    title: 'About',
    intro: 'Version of the running server.',
    version: 'Version',
    gitSha: 'Commit',
    buildTime: 'Build time',
    schemaVersion: 'Database schema',
    env: 'Environment',
    loading: 'Loading…',
    retry: 'Retry',
  },
  notFound: {
    title: 'Page not found',
    text: 'The page {path} does not exist.',
    back: 'Go to the workspace',
  },
  errors: {
    network: 'The server cannot be reached. Check your connection and try again.',
    forbidden: 'You are not allowed to do this.',
    unknown: 'Something went wrong ({code}).',
  },
}

export default en
