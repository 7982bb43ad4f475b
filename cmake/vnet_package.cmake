# The driver as a package a product build consumes (docs/porting.md, "Build integration").
#
#   vnet::driver      virtqueue core, transports (PCI modern/legacy, MMIO), virtio-net,
#                     public headers (include/vnet/), the OS contract (os/osal.h)
#   vnet::osal_ucos2  the uC/OS-II port of the OS contract (os/ucos2/)
#
# Both are INTERFACE libraries carrying their *sources*: the product compiles them with
# its own toolchain, flags and uC/OS-II headers (ucos_ii.h, os_cfg.h, app_cfg.h come from
# the product's kernel target, linked next to these). The same targets come from
#   find_package(vnet)             after `cmake --install` (files under share/vnet/), or
#   add_subdirectory(<vnet-rtos>)  from a product's tree (only these targets are defined).
# The file lists below are also written, for non-CMake builds, as vnet.mk (checked
# against this list by the test package.file_lists, so neither goes stale).

# Driver sources, as src/CMakeLists.txt globs them (relative to the top of the tree).
function(vnet_package_lists root)
  file(GLOB virtio RELATIVE ${root} CONFIGURE_DEPENDS ${root}/src/virtio/*.c)
  file(GLOB net RELATIVE ${root} CONFIGURE_DEPENDS ${root}/src/net/*.c)
  set(VNET_PKG_DRIVER_SRCS src/common/vnet_err.c ${virtio} ${net} PARENT_SCOPE)
  file(GLOB_RECURSE hdrs RELATIVE ${root} CONFIGURE_DEPENDS
    ${root}/include/vnet/*.h ${root}/src/*.h)
  set(VNET_PKG_DRIVER_HDRS os/osal.h ${hdrs} PARENT_SCOPE)
  set(VNET_PKG_UCOS2_SRCS os/ucos2/osal_ucos2.c PARENT_SCOPE)
  # The port's header, plus the shipped uC/OS-II configuration templates when present.
  file(GLOB cfg RELATIVE ${root} CONFIGURE_DEPENDS ${root}/os/ucos2/cfg/*.h)
  set(VNET_PKG_UCOS2_HDRS os/ucos2/osal_port.h os/ucos2/osal_ucos2_board.h ${cfg} PARENT_SCOPE)
  # Include directories: public API, OS contract, the driver's internal headers (its
  # sources include them by path under src/), and the port's header.
  set(VNET_PKG_DRIVER_INCS include os src PARENT_SCOPE)
  set(VNET_PKG_UCOS2_INCS os/ucos2 PARENT_SCOPE)
endfunction()

# vnet_package_targets(): define vnet_pkg_driver / vnet_pkg_osal_ucos2 and their vnet::
# aliases from the tree at PROJECT_SOURCE_DIR; INSTALL adds install() and export rules.
function(vnet_package_targets)
  cmake_parse_arguments(P "INSTALL" "" "" ${ARGN})
  set(root ${PROJECT_SOURCE_DIR})
  set(share share/vnet) # install location of the source tree, relative to the prefix
  vnet_package_lists(${root})

  add_library(vnet_pkg_driver INTERFACE)
  add_library(vnet_pkg_osal_ucos2 INTERFACE)
  set_target_properties(vnet_pkg_driver PROPERTIES EXPORT_NAME driver)
  set_target_properties(vnet_pkg_osal_ucos2 PROPERTIES EXPORT_NAME osal_ucos2)
  foreach(t driver osal_ucos2)
    if(t STREQUAL "driver")
      set(srcs ${VNET_PKG_DRIVER_SRCS})
      set(incs ${VNET_PKG_DRIVER_INCS})
    else()
      set(srcs ${VNET_PKG_UCOS2_SRCS})
      set(incs ${VNET_PKG_UCOS2_INCS})
    endif()
    foreach(s ${srcs})
      target_sources(vnet_pkg_${t} INTERFACE
        $<BUILD_INTERFACE:${root}/${s}> $<INSTALL_INTERFACE:$<INSTALL_PREFIX>/${share}/${s}>)
    endforeach()
    foreach(i ${incs})
      target_include_directories(vnet_pkg_${t} INTERFACE
        $<BUILD_INTERFACE:${root}/${i}> $<INSTALL_INTERFACE:${share}/${i}>)
    endforeach()
    add_library(vnet::${t} ALIAS vnet_pkg_${t})
  endforeach()
  # The port implements the contract the driver declares.
  target_link_libraries(vnet_pkg_osal_ucos2 INTERFACE vnet_pkg_driver)

  if(NOT P_INSTALL)
    return()
  endif()
  include(CMakePackageConfigHelpers)
  foreach(f ${VNET_PKG_DRIVER_SRCS} ${VNET_PKG_DRIVER_HDRS} ${VNET_PKG_UCOS2_SRCS}
            ${VNET_PKG_UCOS2_HDRS})
    get_filename_component(d ${f} DIRECTORY)
    install(FILES ${root}/${f} DESTINATION ${share}/${d} COMPONENT vnet)
  endforeach()
  install(FILES ${root}/vnet.mk DESTINATION ${share} COMPONENT vnet)
  install(TARGETS vnet_pkg_driver vnet_pkg_osal_ucos2 EXPORT vnetTargets)
  install(EXPORT vnetTargets NAMESPACE vnet:: DESTINATION lib/cmake/vnet COMPONENT vnet)
  configure_package_config_file(${root}/cmake/vnetConfig.cmake.in
    ${CMAKE_BINARY_DIR}/vnetConfig.cmake INSTALL_DESTINATION lib/cmake/vnet
    PATH_VARS share)
  write_basic_package_version_file(${CMAKE_BINARY_DIR}/vnetConfigVersion.cmake
    VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
  install(FILES ${CMAKE_BINARY_DIR}/vnetConfig.cmake ${CMAKE_BINARY_DIR}/vnetConfigVersion.cmake
    DESTINATION lib/cmake/vnet COMPONENT vnet)

  # package.file_lists: vnet.mk lists exactly the package's sources, and the package
  # exactly the driver library's (host builds, where the driver library exists).
  if(TARGET vnet_driver AND VNET_TARGET STREQUAL "host")
    get_target_property(lib_srcs vnet_driver SOURCES)
    get_target_property(lib_dir vnet_driver SOURCE_DIR)
    set(abs "")
    foreach(s ${lib_srcs})
      if(NOT IS_ABSOLUTE ${s})
        set(s ${lib_dir}/${s})
      endif()
      file(RELATIVE_PATH r ${root} ${s})
      list(APPEND abs ${r})
    endforeach()
    list(SORT abs)
    set(pkg ${VNET_PKG_DRIVER_SRCS})
    list(SORT pkg)
    string(REPLACE ";" " " abs "${abs}")
    string(REPLACE ";" " " pkg "${pkg}")
    string(REPLACE ";" " " ucos2 "${VNET_PKG_UCOS2_SRCS}")
    add_test(NAME package.file_lists COMMAND ${CMAKE_COMMAND}
      -DROOT=${root} "-DLIB=${abs}" "-DPKG=${pkg}" "-DUCOS2=${ucos2}"
      -P ${root}/cmake/vnet_check_lists.cmake)
    set_tests_properties(package.file_lists PROPERTIES LABELS unit TIMEOUT 60)
  endif()
endfunction()
