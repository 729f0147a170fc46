"""The service's page (``GET /``) in a real headless Chromium: a photo dropped on it is restored,
the result appears under the before/after slider, the slider moves the divider, the download is
the service's PNG, and the page logs no console errors (it loads nothing from outside)."""
import base64

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from skimage import data

from ppir.utils.image_io import write_image
from serve_fixtures import ServeProcess, tiny_weights
from apps_fixtures import add_noise

DROP = """
const input = arguments[0], target = document.getElementById('drop');
const transfer = new DataTransfer();
transfer.items.add(input.files[0]);
for (const kind of ['dragenter', 'dragover', 'drop']) {
  target.dispatchEvent(new DragEvent(kind, {dataTransfer: transfer, bubbles: true, cancelable: true}));
}
"""
READ_BLOB = """
const done = arguments[arguments.length - 1];
fetch(arguments[0]).then((r) => r.arrayBuffer()).then((buffer) => {
  let text = '';
  new Uint8Array(buffer).forEach((b) => { text += String.fromCharCode(b); });
  done(btoa(text));
});
"""


@pytest.fixture(scope="module")
def server(module_home, tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve_page")
    weights = tiny_weights(folder / "tiny.pdparams")
    started = ServeProcess(str(folder / "logs"), "--arch", "MPRNet", "--task", "Deraining", "--weight_path", weights,
                           "--backend", "dygraph", "--device", "cpu")
    try:
        yield started.wait_ready()
    finally:
        started.stop()


def test_drop_a_photo_see_the_result_move_the_slider_download(server, browser, tmp_path):
    photo = tmp_path / "cat.jpg"
    write_image(photo, add_noise(data.chelsea()[60:180, 120:280]))  # 160x120
    expected = httpx.post(server.url + "/v1/restore", content=photo.read_bytes(), timeout=120).content

    browser.get(server.url + "/")
    wait = WebDriverWait(browser, 120)
    wait.until(lambda d: "MPRNet Deraining on dygraph" in d.find_element(By.ID, "model").text)
    # A drop: the file goes into a DataTransfer through a file input (what Selenium can fill).
    carrier = browser.execute_script(
        "const i = document.createElement('input'); i.type = 'file'; i.id = 'carrier';"
        "document.body.appendChild(i); return i;")
    carrier.send_keys(str(photo))
    browser.execute_script(DROP, carrier)
    wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-restored") == "yes")

    assert "restored cat.jpg" in browser.find_element(By.ID, "status").text
    assert browser.find_element(By.ID, "compare").is_displayed()
    assert not browser.find_element(By.ID, "progress").is_displayed()
    sizes = browser.execute_script(
        "return ['before', 'after'].map((id) => [document.getElementById(id).naturalWidth,"
        " document.getElementById(id).naturalHeight]);")
    assert sizes == [[160, 120], [160, 120]]

    clip, divider = browser.find_element(By.ID, "after-clip"), browser.find_element(By.ID, "divider")
    assert clip.get_attribute("style").count("50%") == 1
    half = clip.size["width"]
    slider = browser.find_element(By.ID, "slider")
    ActionChains(browser).click_and_hold(slider).move_by_offset(-slider.size["width"] // 2 + 2, 0).release().perform()
    moved = int(slider.get_attribute("value"))
    assert moved < 10
    assert clip.size["width"] < half / 3 and divider.get_attribute("style").startswith(f"left: {moved}%")

    link = browser.find_element(By.ID, "download")
    assert link.get_attribute("download") == "cat_restored.png" and link.get_attribute("href").startswith("blob:")
    downloaded = base64.b64decode(browser.execute_async_script(READ_BLOB, link.get_attribute("href")))
    assert downloaded == expected  # what the page offers is the service's PNG
    assert browser.console_errors() == []


def test_a_file_that_is_not_a_photo_shows_the_services_error(server, browser, tmp_path):
    notes = tmp_path / "notes.jpg"
    notes.write_text("shopping list")
    browser.get(server.url + "/")
    WebDriverWait(browser, 60).until(lambda d: "MPRNet" in d.find_element(By.ID, "model").text)
    browser.find_element(By.ID, "file").send_keys(str(notes))
    status = browser.find_element(By.ID, "status")
    WebDriverWait(browser, 60).until(lambda d: "not restored" in status.text)
    assert status.text.startswith("not restored (400): not an image")
    assert status.get_attribute("class") == "error"
    assert not browser.find_element(By.ID, "compare").is_displayed()
    # the one console error is Chromium's own line about the 400 response, nothing from the page
    assert all("400" in entry["message"] for entry in browser.console_errors())
