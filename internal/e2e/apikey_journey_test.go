package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// TestAdminCopiesANewAPIKeyAndConfirmsBeforeRevoking: the key shown once
// is copied with a button (with the script) or selected whole with one
// click (without it), and revoking goes through a page that asks first,
// which works without the script too.
func TestAdminCopiesANewAPIKeyAndConfirmsBeforeRevoking(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		noScript bool
	}{{"with script", false}, {"without script", true}} {
		t.Run(tc.name, func(t *testing.T) {
			a := newApp(t)
			a.addUser(t, "admin@example.com", tandem.RoleAdmin, 0)
			ctx := newBrowser(t)
			signIn(t, ctx, a, "admin@example.com")
			if tc.noScript {
				if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
					t.Fatalf("turn scripts off: %v", err)
				}
			}
			navigate(t, ctx, "open the API keys page", 200, chromedp.Navigate(a.URL+"/settings/api-keys"))
			navigate(t, ctx, "create a key", 201,
				chromedp.SendKeys(chromedp.CSS("#name"), "Zendesk webhook"),
				chromedp.Click(chromedp.CSS(`input[name=scopes][value="ratings:write"]`)),
				chromedp.Click(chromedp.CSS(`form[action="/settings/api-keys"] button[type=submit]`)))
			token := strings.TrimSpace(run(t, ctx, "read the key", chromedp.Text(chromedp.CSS("#new-token"))))
			if !strings.HasPrefix(token, "tdm_") {
				t.Fatalf("new key %q", token)
			}
			buttonShown := run(t, ctx, "look for the copy button", chromedp.Evaluate[bool](
				`(() => { const b = document.querySelector('[data-copy="new-token"]'); return !!b && !b.hidden && b.offsetParent !== null; })()`))
			if tc.noScript {
				if buttonShown {
					t.Error("without the script a copy button that cannot work is shown")
				}
				do(t, ctx, "click the key", chromedp.Click(chromedp.CSS("#new-token")))
			} else {
				if !buttonShown {
					t.Fatal("no copy button is shown")
				}
				do(t, ctx, "click Copy", chromedp.Click(chromedp.CSS(`[data-copy="new-token"]`)))
				run(t, ctx, "wait for the copy to be told", chromedp.Poll[bool](
					`document.querySelector('[data-copy-status="new-token"]').textContent !== ""`))
				status := run(t, ctx, "read the copy status", chromedp.Text(chromedp.CSS(`[data-copy-status="new-token"]`)))
				if status != "Copied." && !strings.HasPrefix(status, "Selected") {
					t.Errorf("after Copy the page says %q, want Copied. or how to copy the selection", status)
				}
			}
			selected := run(t, ctx, "read the selection", chromedp.Evaluate[string](`window.getSelection().toString().trim()`))
			if selected != token {
				t.Errorf("selection %q after the click, want the whole key %q", selected, token)
			}

			got := navigate(t, ctx, "ask to revoke", 200, chromedp.Click(chromedp.CSS(`#api-keys a.danger`)))
			if !strings.HasSuffix(got, "/revoke") {
				t.Fatalf("Revoke… led to %s, want the confirmation page", got)
			}
			if n := countActiveKeys(t, a); n != 1 {
				t.Fatalf("%d active keys after opening the confirmation, want 1", n)
			}
			got = navigate(t, ctx, "confirm", 200, chromedp.Click(chromedp.CSS(`form.actions button.danger`)))
			if got != "/settings/api-keys" {
				t.Errorf("after revoking the browser is at %s, want the list", got)
			}
			if n := countActiveKeys(t, a); n != 0 {
				t.Errorf("%d active keys after confirming, want 0", n)
			}
		})
	}
}

func countActiveKeys(t *testing.T, a *app) int {
	t.Helper()
	keys, err := a.Store.APIKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, k := range keys {
		if k.RevokedAt.IsZero() {
			n++
		}
	}
	return n
}
