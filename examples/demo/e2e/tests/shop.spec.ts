import { test, expect } from '@playwright/test';

// The pages are rendered in place (page.setContent): the demo needs no server.
test.describe('shop', () => {
  test('lists the products', async ({ page }) => {
    await page.setContent('<ul id="products"><li>Tea</li><li>Coffee</li></ul>');
    await expect(page.locator('#products li')).toHaveCount(2);
  });

  test('adds a product to the cart', async ({ page }) => {
    await page.setContent(`
      <button id="add">Add tea</button><span id="count">0</span>
      <script>
        document.getElementById('add').onclick = () => {
          const count = document.getElementById('count');
          count.textContent = String(Number(count.textContent) + 1);
        };
      </script>`);
    await page.click('#add');
    await expect(page.locator('#count')).toHaveText('1');
  });
});

test('knows where the app lives', async () => {
  expect(process.env.BASE_URL ?? 'http://localhost:8000').toMatch(/^https?:\/\//);
});
