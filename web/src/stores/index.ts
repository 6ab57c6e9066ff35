import { defineStore } from '#q-app'
import { createPinia } from 'pinia'

// Quasar creates the Pinia instance from this file before the router and the boot files.
export default defineStore(() => createPinia())
