# What a ferry package holds (install rules) and the .deb and .rpm made from it (CPack), from one build:
#   cmake --install build --prefix /usr                       # or DESTDIR=/stage cmake --install ...
#   cpack --config build/CPackConfig.cmake -G "DEB;RPM" -B build/packages
# Installing builds nothing: the man pages are gzipped and the packaged config written by the build (ALL).
# The lambda wrappers install themselves beside ferry (plugins/lambda/wrappers/CMakeLists.txt): ferry finds
# them through PATH, which under systemd holds /usr/bin. Test tools, benchmarks, fuzz targets and the
# example plugin are never installed. docs/NOTES.md, "Stage 13", says why each choice was made.

install(TARGETS ferry RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The C ABI of external plugins, for plugins built outside the tree.
install(FILES plugins/include/ferry/plugin.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ferry)

# Man pages gzipped (-n: no name or time stamp, so the package is reproducible), as Debian policy asks.
set(ferry_man_pages man/ferry.1 man/ferry.yaml.5)
set(ferry_man_gz)
foreach(page ${ferry_man_pages})
  get_filename_component(name ${page} NAME)
  set(gz ${CMAKE_BINARY_DIR}/man/${name}.gz)
  add_custom_command(OUTPUT ${gz} COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
                     COMMAND gzip -9nc ${CMAKE_SOURCE_DIR}/${page} > ${gz} DEPENDS ${page} VERBATIM)
  list(APPEND ferry_man_gz ${gz})
endforeach()

# The packaged /etc/ferry/ferry.yaml: conf/ferry.yaml with its flows commented out, so a fresh install ships
# nothing anywhere until someone writes a flow (ferry refuses a config without one, and so does the unit).
set(ferry_packaged_config ${CMAKE_BINARY_DIR}/packaging/ferry.yaml)
add_custom_command(OUTPUT ${ferry_packaged_config}
                   COMMAND ${CMAKE_COMMAND} -DIN=${CMAKE_SOURCE_DIR}/conf/ferry.yaml -DOUT=${ferry_packaged_config}
                           -P ${CMAKE_SOURCE_DIR}/packaging/packaged_config.cmake
                   DEPENDS conf/ferry.yaml packaging/packaged_config.cmake VERBATIM)
add_custom_target(ferry_package_files ALL DEPENDS ${ferry_man_gz} ${ferry_packaged_config})

install(FILES ${CMAKE_BINARY_DIR}/man/ferry.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${CMAKE_BINARY_DIR}/man/ferry.yaml.5.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)
# /etc whatever the prefix: the unit and the docs name /etc/ferry/ferry.yaml (GNUInstallDirs maps the
# prefix /usr to /etc only when it is the prefix at configure time, not for `cmake --install --prefix /usr`).
install(FILES ${ferry_packaged_config} DESTINATION /etc/ferry PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
        WORLD_READ)
# /usr/lib/systemd/system: where rpm puts units, and on Debian 12 (merged /usr) the same folder as /lib/...
install(FILES packaging/ferry.service DESTINATION lib/systemd/system)
# Whatever conf/examples holds is shipped (the folder may not exist yet in every tree).
install(DIRECTORY conf/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples OPTIONAL)
# The licence: its text as LICENSE, and the copyright file Debian reads (machine-readable, pointing at
# /usr/share/common-licenses/Apache-2.0 as lintian asks). The changelog a native Debian package must have
# says which version this is; the date is SOURCE_DATE_EPOCH's when set (reproducible builds).
string(TIMESTAMP ferry_changelog_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
configure_file(packaging/debian/changelog.in ${CMAKE_BINARY_DIR}/packaging/changelog @ONLY)
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/packaging/changelog.gz
                   COMMAND gzip -9nc ${CMAKE_BINARY_DIR}/packaging/changelog > ${CMAKE_BINARY_DIR}/packaging/changelog.gz
                   DEPENDS ${CMAKE_BINARY_DIR}/packaging/changelog VERBATIM)
add_custom_target(ferry_package_changelog ALL DEPENDS ${CMAKE_BINARY_DIR}/packaging/changelog.gz)
install(FILES LICENSE packaging/debian/copyright ${CMAKE_BINARY_DIR}/packaging/changelog.gz
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

# CPack: one install tree, two packages.
set(CPACK_PACKAGE_NAME ferry)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "The ferry authors")
set(CPACK_PACKAGE_CONTACT "ferry maintainers <ferry@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Log shipper for Amazon Kinesis Data Streams and Firehose")
# Lines under 80 characters (lintian, rpmlint).
set(CPACK_PACKAGE_DESCRIPTION
    "ferry tails log files and ships their lines to Amazon Kinesis Data Streams
(with KPL aggregation) or Amazon Data Firehose, through plugins that filter,
parse, redact and transform them, with durable checkpoints, a disk spool and
retries. It runs as a systemd service (notify, watchdog, reload on SIGHUP).")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
# The unit and the config name /usr/bin/ferry and /etc/ferry: nothing to relocate.
set(CPACK_PACKAGE_RELOCATABLE OFF)
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_SOURCE_DIR}/LICENSE)
set(CPACK_GENERATOR "DEB;RPM")

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# adduser for the system user; the wrappers run python3 or node only when a flow uses them.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3, nodejs")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/prerm ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)

set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_LICENSE "Apache-2.0")
set(CPACK_RPM_PACKAGE_GROUP "System Environment/Daemons")
set(CPACK_RPM_PACKAGE_AUTOREQ ON)
set(CPACK_RPM_PACKAGE_DESCRIPTION ${CPACK_PACKAGE_DESCRIPTION})
# No /usr/lib/.build-id links: the binary is stripped (CPACK_STRIP_FILES), there is no debuginfo package.
set(CPACK_RPM_SPEC_MORE_DEFINE "%define packager ${CPACK_PACKAGE_CONTACT}\n%define _build_id_links none")

set(CPACK_RPM_USER_FILELIST "%config(noreplace) /etc/ferry/ferry.yaml")
# Folders other packages own (filesystem, systemd): listing them would make the package own them too.
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION /usr/lib/systemd /usr/lib/systemd/system
    /usr/share/man /usr/share/man/man1 /usr/share/man/man5 /usr/share/doc)
set(CPACK_RPM_PRE_INSTALL_SCRIPT_FILE ${CMAKE_SOURCE_DIR}/packaging/rpm/pre)
set(CPACK_RPM_POST_INSTALL_SCRIPT_FILE ${CMAKE_SOURCE_DIR}/packaging/rpm/post)
set(CPACK_RPM_PRE_UNINSTALL_SCRIPT_FILE ${CMAKE_SOURCE_DIR}/packaging/rpm/preun)
set(CPACK_RPM_POST_UNINSTALL_SCRIPT_FILE ${CMAKE_SOURCE_DIR}/packaging/rpm/postun)
include(CPack)
