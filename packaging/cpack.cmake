# cpack.cmake — the Debian package of takt (CPack DEB). Included at the end
# of the root CMakeLists.txt, after every install() rule.
#
#   cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr
#   cmake --build build-deb -j2
#   (cd build-deb && cpack -G DEB)        -> build-deb/takt_<version>-1_<arch>.deb
# (cpack strips the binary: CPACK_STRIP_FILES)
#
# The package installs /usr/sbin/taktd, the systemd unit, /etc/takt/taktd.yaml
# and /etc/takt/dialects/ as conffiles, the man page taktd(8) and the
# runbook; its postinst creates the takt system user and does not enable or
# start the service (packaging/debian-scripts/). The prefix must be /usr:
# GNUInstallDirs then puts the configuration in /etc (with the default
# /usr/local it would be /usr/local/etc, which the unit does not read), and
# cpack refuses to build the package otherwise.
include(GNUInstallDirs)

# --- what the package carries besides the root's install() rules ----------
set(TAKT_DEB_DIR ${CMAKE_BINARY_DIR}/debian)
file(MAKE_DIRECTORY ${TAKT_DEB_DIR})
# Debian policy: manual pages compressed with gzip -9n (no name, no time).
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/taktd.8)
execute_process(COMMAND gzip -9nc ${PROJECT_SOURCE_DIR}/docs/taktd.8
                OUTPUT_FILE ${TAKT_DEB_DIR}/taktd.8.gz RESULT_VARIABLE gz_rc)
if(NOT gz_rc EQUAL 0)
  message(FATAL_ERROR "gzip of docs/taktd.8 failed")
endif()
install(FILES ${TAKT_DEB_DIR}/taktd.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${PROJECT_SOURCE_DIR}/docs/operations.md ${PROJECT_SOURCE_DIR}/docs/configuration.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${PROJECT_SOURCE_DIR}/packaging/debian-scripts/copyright
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
# Debian policy: a changelog.Debian.gz per package; this one says where the
# package comes from (the tree's history is in git). SOURCE_DATE_EPOCH, when
# set, makes it reproducible.
string(TIMESTAMP takt_deb_date "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(WRITE ${TAKT_DEB_DIR}/changelog.Debian
     "takt (${PROJECT_VERSION}-1) unstable; urgency=medium\n\n"
     "  * Built from the takt source tree with CPack (packaging/cpack.cmake).\n\n"
     " -- takt maintainers <maintainers@takt.example.org>  ${takt_deb_date}\n")
execute_process(COMMAND gzip -9nf ${TAKT_DEB_DIR}/changelog.Debian RESULT_VARIABLE gz_rc)
if(NOT gz_rc EQUAL 0)
  message(FATAL_ERROR "gzip of changelog.Debian failed")
endif()
install(FILES ${TAKT_DEB_DIR}/changelog.Debian.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${PROJECT_SOURCE_DIR}/packaging/grafana/takt.json
              ${PROJECT_SOURCE_DIR}/packaging/prometheus/takt-alerts.yml
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# --- conffiles: every file the package puts under /etc ---------------------
file(GLOB takt_dialects RELATIVE ${PROJECT_SOURCE_DIR}/conf/dialects
     CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/conf/dialects/*.yaml)
set(conffiles "${CMAKE_INSTALL_FULL_SYSCONFDIR}/takt/taktd.yaml\n")
foreach(d ${takt_dialects})
  string(APPEND conffiles "${CMAKE_INSTALL_FULL_SYSCONFDIR}/takt/dialects/${d}\n")
endforeach()
file(WRITE ${TAKT_DEB_DIR}/conffiles "${conffiles}")
foreach(script postinst prerm postrm)
  configure_file(${PROJECT_SOURCE_DIR}/packaging/debian-scripts/${script}
                 ${TAKT_DEB_DIR}/${script} COPYONLY)
endforeach()

# cpack refuses a package whose configuration would not land in /etc/takt.
file(WRITE ${TAKT_DEB_DIR}/cpack-check.cmake
     "if(CPACK_GENERATOR STREQUAL \"DEB\" AND NOT \"${CMAKE_INSTALL_FULL_SYSCONFDIR}\" STREQUAL \"/etc\")\n"
     "  message(FATAL_ERROR \"the takt package needs -DCMAKE_INSTALL_PREFIX=/usr \"\n"
     "    \"(this tree puts the configuration in ${CMAKE_INSTALL_FULL_SYSCONFDIR}/takt)\")\n"
     "endif()\n")
set(CPACK_PROJECT_CONFIG_FILE ${TAKT_DEB_DIR}/cpack-check.cmake)

# --- package metadata -------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME takt)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "takt")
set(CPACK_PACKAGE_CONTACT "takt maintainers <maintainers@takt.example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "ERP/MES integration broker daemon")
set(CPACK_PACKAGE_DESCRIPTION
    "takt keeps ERP and MES systems in step: it ingests production orders and\n"
    "shop-floor events over HTTP, validates them against a canonical model, runs\n"
    "each work order's state machine, and delivers to HTTP endpoints and Kafka\n"
    "through a transactional outbox in PostgreSQL.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://takt.example.org/")
# Library dependencies come from dpkg-shlibdeps (libevent, libpq, librdkafka,
# jansson, libyaml, OpenSSL, jemalloc); adduser for the postinst (init-system-helpers,
# for deb-systemd-helper and deb-systemd-invoke, is essential).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "postgresql (>= 14)")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${TAKT_DEB_DIR}/conffiles ${TAKT_DEB_DIR}/postinst ${TAKT_DEB_DIR}/prerm
    ${TAKT_DEB_DIR}/postrm)
# 0755 for the maintainer scripts, 0644 for conffiles, whatever the checkout's modes.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
