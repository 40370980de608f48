# make install and the Debian package: every file gvx ships, under CMAKE_INSTALL_PREFIX (PREFIX
# in the Makefile) and DESTDIR. With the prefix /usr, configuration goes to /etc and the units
# to /lib/systemd/system, as Debian has them; with /usr/local, to /usr/local/etc and
# /usr/local/lib/systemd/system (systemd reads that too).
#
#   bin/gvx-fcgi  bin/gvx  sbin/gvx-cleanup  lib/gvx/gvx.so (.load PREFIX/lib/gvx/gvx)
#   share/man/man{1,7,8}/  share/gvx/{apache,lighttpd,nginx,errors,web}/
#   share/gvx/{render-config,cgi-without-credentials}  share/doc/gvx/
#   <systemd>/gvx-fcgi.{socket,service} gvx-cleanup.{service,timer}
#   <etc>/default/gvx  <etc>/cron.d/gvx-cleanup
include(GNUInstallDirs)

set(GVX_BINDIR ${CMAKE_INSTALL_FULL_BINDIR})
set(GVX_CLEANUP_DIR ${CMAKE_INSTALL_FULL_SBINDIR})
set(GVX_DEFAULTS_FILE ${CMAKE_INSTALL_FULL_SYSCONFDIR}/default/gvx)
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    set(GVX_SYSTEMD_DIR /lib/systemd/system)
else()
    set(GVX_SYSTEMD_DIR ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endif()

set(GVX_CONFIGURED ${CMAKE_BINARY_DIR}/configured)
configure_file(scripts/systemd/gvx-fcgi.service.in ${GVX_CONFIGURED}/gvx-fcgi.service @ONLY)
configure_file(scripts/systemd/gvx-cleanup.service.in ${GVX_CONFIGURED}/gvx-cleanup.service @ONLY)
configure_file(scripts/cron/gvx-cleanup.in ${GVX_CONFIGURED}/cron/gvx-cleanup @ONLY)

install(TARGETS gvx LIBRARY DESTINATION lib/gvx)
if(TARGET gvx-fcgi)
    install(TARGETS gvx-fcgi RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
install(TARGETS gvx_admin RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(PROGRAMS scripts/gvx-cleanup DESTINATION ${CMAKE_INSTALL_SBINDIR})

install(FILES docs/man/gvx.1 docs/man/gvx-fcgi.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES docs/man/gvx.7 DESTINATION ${CMAKE_INSTALL_MANDIR}/man7)
install(FILES docs/man/gvx-cleanup.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)

install(FILES ${GVX_CONFIGURED}/gvx-fcgi.service ${GVX_CONFIGURED}/gvx-cleanup.service
              scripts/systemd/gvx-fcgi.socket scripts/systemd/gvx-cleanup.timer
        DESTINATION ${GVX_SYSTEMD_DIR})
install(FILES scripts/default/gvx DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/default)
install(FILES ${GVX_CONFIGURED}/cron/gvx-cleanup DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/cron.d)

# Server configurations (templates for scripts/render-config, installed beside them), the
# error pages they use, and the settings page.
set(GVX_SHARE ${CMAKE_INSTALL_DATADIR}/gvx)
foreach(server apache lighttpd nginx)
    install(DIRECTORY scripts/${server}/ DESTINATION ${GVX_SHARE}/${server})
endforeach()
install(DIRECTORY scripts/errors/ DESTINATION ${GVX_SHARE}/errors)
install(PROGRAMS scripts/render-config DESTINATION ${GVX_SHARE})
# lighttpd's git configurations run git-http-backend through it (SCRIPTS_DIR=/usr/share/gvx).
install(PROGRAMS scripts/cgi-without-credentials DESTINATION ${GVX_SHARE})
if(EXISTS ${CMAKE_SOURCE_DIR}/web)
    install(DIRECTORY web/ DESTINATION ${GVX_SHARE}/web)
endif()
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
