import { expect, expectAccessible, gateway, hostOrigin, newOperator, screenshot, test } from './fixtures'

const direction = (element: Element) => getComputedStyle(element).direction

test('a Persian conversation renders right to left in the widget and the console', async ({ open }) => {
  const operator = await newOperator('سارا')
  const { page: console_ } = await open({ locale: 'fa-IR', viewport: { width: 1200, height: 760 } })
  await console_.goto(`${gateway()}/`)
  await expect(console_.locator('html')).toHaveAttribute('dir', 'rtl')
  await console_.getByLabel('نام کاربری یا ایمیل').fill(operator.username)
  await console_.getByLabel('گذرواژه').fill(operator.password)
  await console_.getByRole('button', { name: 'ورود' }).click()
  await console_.getByRole('combobox', { name: 'وضعیت' }).selectOption('online')
  await expect(console_.getByTestId('load')).toHaveText('بار ۰ از ۳') // Persian digits

  const { page: shop } = await open({ locale: 'fa-IR', viewport: { width: 1100, height: 760 } })
  await shop.goto(`${hostOrigin()}/?lang=fa`)
  await shop.getByRole('button', { name: 'گفتگو با ما' }).click()
  const widget = shop.frameLocator('[data-goftogu-widget] iframe')
  await expect(widget.locator('html')).toHaveAttribute('dir', 'rtl')
  await widget.getByLabel('نام شما').fill('مریم')
  await widget.getByRole('button', { name: 'آغاز گفتگو' }).click()
  const persian = 'سلام، سفارش من هنوز نرسیده است.'
  await widget.getByLabel('پیام').fill(persian)
  await widget.getByLabel('پیام').press('Enter')

  await console_.getByTestId('mine').getByRole('link', { name: /مریم/ }).click()
  const inConsole = console_.locator('.message .body', { hasText: persian })
  await expect(inConsole).toHaveCount(1)
  expect(await inConsole.evaluate(direction)).toBe('rtl')
  await console_.getByLabel('پیام').fill('Your order number, please? سفارش')
  await console_.getByLabel('پیام').press('Enter')
  const english = widget.locator('.message .body', { hasText: 'Your order number' })
  await expect(english).toHaveCount(1)
  expect(await english.evaluate(direction)).toBe('ltr') // dir="auto": the text's own direction
  expect(await widget.locator('.message .body', { hasText: persian }).evaluate(direction)).toBe('rtl')
  await expect(widget.getByTestId('status')).toHaveText('سارا به گفتگو پیوست.')
  // The composer is at the inline end: on the left in a right-to-left layout.
  const send = await widget.getByRole('button', { name: 'بفرست' }).boundingBox()
  const box = await widget.getByLabel('پیام').boundingBox()
  expect(send && box && send.x < box.x).toBe(true)

  await expectAccessible(console_, 'console in Persian')
  await expectAccessible(shop, 'widget in Persian')
  await screenshot(console_, 'console-rtl')
  await screenshot(shop, 'widget-rtl')
})

test('the widget works on a phone-sized screen, by keyboard alone', async ({ open }) => {
  const { page } = await open({ viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true })
  await page.goto(`${hostOrigin()}/`)
  await page.keyboard.press('Tab') // the launcher is the page's only control
  await expect(page.getByRole('button', { name: 'Chat with us' })).toBeFocused()
  await page.keyboard.press('Enter')
  const frame = page.frameLocator('[data-goftogu-widget] iframe')
  await expect(frame.getByLabel('Your name')).toBeFocused()
  // The panel fills the screen.
  const box = await page.locator('[data-goftogu-widget] iframe').boundingBox()
  expect(box).toEqual({ x: 0, y: 0, width: 360, height: 640 })
  await page.keyboard.type('Kian')
  await page.keyboard.press('Tab')
  await page.keyboard.press('Tab')
  await expect(frame.getByRole('button', { name: 'Start chatting' })).toBeFocused()
  await page.keyboard.press('Enter')
  await expect(frame.getByLabel('Message')).toBeVisible()
  await frame.getByLabel('Message').focus()
  await page.keyboard.type('Typed with the keyboard')
  await page.keyboard.press('Enter')
  await expect(frame.locator('.message:not(.pending) .body', { hasText: 'Typed with the keyboard' })).toHaveCount(1)
  await screenshot(page, 'widget-phone')
  // Escape closes the panel and gives the focus back to the launcher.
  await page.keyboard.press('Escape')
  await expect(page.locator('[data-goftogu-widget] iframe')).toBeHidden()
  await expect(page.getByRole('button', { name: 'Chat with us' })).toBeFocused()
})
