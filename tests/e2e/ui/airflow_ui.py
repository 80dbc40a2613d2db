"""What a user does in Airflow 3's UI, as Playwright steps: open a DAG's Trigger dialog, fill its
form, trigger or backfill, and read a task's state, logs and extra links."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote

from playwright.sync_api import Locator, Page, expect

from demo.processes import wait_for
from tests.e2e.harness import HarnessApi


def open_trigger_dialog(page: Page, base_url: str, dag_id: str) -> Locator:
    """The DAG's page, then its Trigger button: the dialog, its form loaded."""
    page.goto(f"{base_url}/dags/{dag_id}")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Logical Date", exact=True)).to_be_visible()
    return dialog


def trigger_button(dialog: Locator) -> Locator:
    return dialog.get_by_role("button", name="Trigger", exact=True)


def open_section(dialog: Locator, section: str) -> None:
    """Expand a section of the form (the accordion keeps it open until clicked again)."""
    header = dialog.get_by_role("button", name=section, exact=True)
    if header.get_attribute("aria-expanded") != "true":
        header.click()
    expect(header).to_have_attribute("aria-expanded", "true")


def field_row(dialog: Locator, param: str) -> Locator:
    """The form row of one Param: its label, input, help text (and error text, when the form has one)."""
    return dialog.locator(f"[data-part=root][role=group]:has(#element_{param}, input[name=element_{param}])")


def help_text(dialog: Locator, param: str) -> str:
    """The sentence under a field (its Param's description)."""
    return field_row(dialog, param).locator("[data-part=helper-text]").inner_text()


def is_starred(dialog: Locator, param: str) -> bool:
    """The form marks the field required (a "*" after its label): it keeps Trigger disabled while empty."""
    return field_row(dialog, param).locator("label[data-part=label][data-required]").count() > 0


def dropdown_options(dialog: Locator, section: str, param: str) -> list[str]:
    """The labels a select field offers (its menu opens in a layer of the page, not in the dialog)."""
    open_section(dialog, section)
    dialog.locator(f"#element_{param}").click()
    options = dialog.page.get_by_role("option")
    expect(options.first).to_be_visible()
    labels = [label.strip() for label in options.all_inner_texts()]
    # A click beside the menu closes it (Escape would close the whole dialog).
    dialog.get_by_text("Logical Date", exact=True).click()
    expect(options).to_have_count(0)
    return labels


def error_alert(dialog: Locator) -> Locator:
    """The error Airflow shows at the top of the dialog when the API refuses the trigger."""
    return dialog.locator("[data-testid=error-alert]")


def fill(dialog: Locator, section: str, param: str, value: str) -> None:
    """Type into a text or number field ("" clears it)."""
    open_section(dialog, section)
    # Text fields are <input id=element_x>; number fields keep the name on their inner <input>.
    field = dialog.locator(f"input#element_{param}, input[name=element_{param}]")
    field.fill(value)
    field.blur()


def fill_json(dialog: Locator, section: str, param: str, value: Any) -> None:
    """Replace the text of a JSON field's code editor (Monaco) by pasting over all of it, as a user
    would: typed text would get Monaco's auto-closed brackets and quotes."""
    open_section(dialog, section)
    dialog.locator(f"#element_{param} .view-lines").click()
    dialog.page.keyboard.press("ControlOrMeta+a")
    text = value if isinstance(value, str) else json.dumps(value)
    dialog.locator(f"#element_{param} textarea").evaluate(
        """(area, text) => {
            const data = new DataTransfer();
            data.setData("text/plain", text);
            const paste = {clipboardData: data, bubbles: true, cancelable: true};
            area.dispatchEvent(new ClipboardEvent("paste", paste));
        }""",
        text,
    )
    expect(field_row(dialog, param).locator("[data-part=error-text]")).to_have_count(0)
    dialog.get_by_text("Logical Date", exact=True).click()


def run_ids(api: HarnessApi, dag_id: str) -> set[str]:
    return {run["dag_run_id"] for run in api.dag_runs(dag_id)}


def new_run(api: HarnessApi, dag_id: str, before: set[str], timeout: float = 60.0) -> dict[str, Any]:
    """The run that appeared since ``before`` (exactly one)."""

    def appeared() -> dict[str, Any] | None:
        runs = [run for run in api.dag_runs(dag_id) if run["dag_run_id"] not in before]
        assert len(runs) <= 1, f"more than one new run: {[run['dag_run_id'] for run in runs]}"
        return runs[0] if runs else None

    return wait_for(appeared, timeout, f"a new run of {dag_id}")


def task_page(page: Page, base_url: str, dag_id: str, run_id: str, task_id: str, tab: str = "") -> None:
    path = f"/dags/{dag_id}/runs/{quote(run_id, safe='')}/tasks/{task_id}"
    page.goto(base_url + path + (f"/{tab}" if tab else ""))


def wait_for_task_state(page: Page, state: str, timeout_ms: float) -> None:
    """Until the task page shows ``state`` (the UI refreshes running tasks by itself)."""
    expect(page.get_by_text(state, exact=True).first).to_be_visible(timeout=timeout_ms)


def extra_links(page: Page) -> dict[str, str]:
    """Name -> URL of the links under the task's "Extra Links" heading (Details tab)."""
    expect(page.get_by_text("Extra Links", exact=True)).to_be_visible()
    links = page.locator("a[href^='https://console.']")
    return {link.inner_text().strip(): str(link.get_attribute("href")) for link in links.all()}


def pick_datetime(dialog: Locator, label: str, when: datetime) -> None:
    """Set one of the Backfill dialog's date pickers ("From", "To") by typing into its Date and Time
    boxes, as a user who knows the date would."""
    page = dialog.page
    field = dialog.locator("[data-part=root][role=group]").filter(has=page.get_by_text(label, exact=True))
    field.get_by_test_id("datetime-input").click()
    popover = page.locator("[data-scope=popover][data-part=content][data-state=open]")
    popover.get_by_placeholder("YYYY/MM/DD").fill(f"{when:%Y/%m/%d}")
    popover.get_by_placeholder("HH:mm").fill(f"{when:%H:%M}")
    page.keyboard.press("Escape")
    expect(field.get_by_test_id("datetime-input")).to_contain_text(f"{when:%Y}")
