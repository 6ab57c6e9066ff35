import type { MessageSchema } from './index'

// French messages: same keys and placeholders as en.ts.
const fr: MessageSchema = {
  app: {
    name: 'Calculateur CO2',
    menu: 'Menu',
    language: 'Langue',
    skipToContent: 'Aller au contenu',
  },
  languages: {
    en: 'English',
    fr: 'Français',
  },
  nav: {
    workspace: 'Espace de travail',
    about: 'À propos',
    login: 'Se connecter',
  },
  login: {
    title: 'Connexion',
    intro: 'Connectez-vous avec votre compte institutionnel pour saisir et consulter l’empreinte carbone de votre unité.',
    signIn: 'Se connecter',
    error: 'La connexion a échoué ({code}). Veuillez réessayer.',
    errors: {
      access_denied: 'L’accès a été refusé par le fournisseur d’identité.',
      session_expired: 'Votre session a expiré. Veuillez vous reconnecter.',
    },
  },
  workspace: {
    title: 'Espace de travail',
    placeholder: 'Choisissez ici une unité et une année. Cette page n’est pas encore disponible.',
  },
  about: {
    title: 'À propos',
    intro: 'Version du serveur en cours d’exécution.',
    version: 'Version',
    gitSha: 'Commit',
    buildTime: 'Date de compilation',
    schemaVersion: 'Schéma de la base de données',
    env: 'Environnement',
    loading: 'Chargement…',
    retry: 'Réessayer',
  },
  notFound: {
    title: 'Page introuvable',
    text: 'La page {path} n’existe pas.',
    back: 'Aller à l’espace de travail',
  },
  errors: {
    network: 'Le serveur est injoignable. Vérifiez votre connexion et réessayez.',
    forbidden: 'Vous n’avez pas l’autorisation de faire ceci.',
    unknown: 'Une erreur est survenue ({code}).',
  },
}

export default fr
