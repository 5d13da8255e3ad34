// Telling an operator something needs them: a short tone, a desktop
// notification when the tab is in the background (permission asked once, on a
// click), and the unread count in the tab's title.
const ASKED_KEY = 'goftogu.notifications.asked'
let audio: AudioContext | null = null

export function notificationsAskable(): boolean {
  return typeof Notification !== 'undefined' && Notification.permission === 'default' && !localStorage.getItem(ASKED_KEY)
}

export async function askForNotifications(): Promise<void> {
  localStorage.setItem(ASKED_KEY, '1')
  unlockSound()
  if (typeof Notification !== 'undefined' && Notification.permission === 'default') {
    await Notification.requestPermission()
  }
}

/** Browsers let a page make sound only after a gesture: call from a click. */
export function unlockSound(): void {
  if (audio || typeof AudioContext === 'undefined') return
  audio = new AudioContext()
}

export function ring(): void {
  if (!audio || audio.state !== 'running') return
  const tone = audio.createOscillator()
  const gain = audio.createGain()
  tone.frequency.value = 880
  gain.gain.setValueAtTime(0.15, audio.currentTime)
  gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4)
  tone.connect(gain).connect(audio.destination)
  tone.start()
  tone.stop(audio.currentTime + 0.4)
}

export function desktopNotify(title: string, body: string, onClick: () => void): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted' || !document.hidden) return
  const notification = new Notification(title, { body, tag: 'goftogu-assigned' })
  notification.onclick = () => {
    window.focus()
    onClick()
    notification.close()
  }
}

export function titleWithCount(base: string, count: number, format: (n: number) => string): string {
  return count > 0 ? `(${format(count)}) ${base}` : base
}
