# Replaces Playwright's own hook (which takes its whole package): the studio needs the driver, i.e. Node.js
# (driver/node, or node.exe) and driver/package with its lib/ and package.json, to launch the system's Chrome.
# Left out: the trace viewer and recorder pages (lib/vite), TypeScript types, and the scripts that install
# browsers (the studio never downloads one: it runs the Chrome or Chromium already on the machine).
from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files(
    "playwright",
    excludes=["driver/package/lib/vite/**", "driver/package/types/**", "driver/package/bin/**", "**/*.d.ts"],
)
