# The dashboard's page, scripts and styles are files next to the modules, read at run time.
from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("deskbridge")
