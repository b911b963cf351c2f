! Fortran STATUS='SCRATCH' (issue 11 item 4): gfortran creates the file in
! TMPDIR and unlinks it at once, so only the open unit holds it. Each step
! writes a record, reads every earlier one back (direct access) and checks
! it; a scratch file lost or emptied by a restart prints a MISMATCH line.
! usage: fortran_scratch [steps=30] [interval_ms=30]
program fortran_scratch
  use iso_c_binding, only: c_int
  implicit none
  integer :: steps, interval_ms, i, j, value, ios
  character(len=32) :: arg
  steps = 30
  interval_ms = 30
  if (command_argument_count() >= 1) then
    call get_command_argument(1, arg)
    read (arg, *) steps
  end if
  if (command_argument_count() >= 2) then
    call get_command_argument(2, arg)
    read (arg, *) interval_ms
  end if
  call note_start()
  open (unit=10, status='scratch', access='direct', recl=4, form='unformatted')
  do i = 1, steps
    write (10, rec=i) i * 7
    do j = 1, i
      read (10, rec=j, iostat=ios) value
      if (ios /= 0 .or. value /= j * 7) then
        print '(a,i0,a,i0)', 'MISMATCH: scratch record ', j, ' at step ', i
        stop 1
      end if
    end do
    print '(a,i0,a,i0)', 'step ', i, ' records ok ', i
    flush (6)
    call pause_ms(interval_ms)
  end do
  close (10)
  print '(a)', 'done'
contains
  subroutine pause_ms(ms)
    integer, intent(in) :: ms
    integer(kind=8) :: start, now, rate
    ! The clock jumps across a restart; that only shortens one pause.
    call system_clock(start, rate)
    do
      call system_clock(now)
      if ((now - start) * 1000 >= int(ms, 8) * rate) exit
      call sleep_short()
    end do
  end subroutine
  subroutine sleep_short()
    interface
      integer(c_int) function usleep(us) bind(c, name='usleep')
        import :: c_int
        integer(c_int), value :: us
      end function
    end interface
    integer :: rc
    rc = usleep(1000)
  end subroutine
  subroutine note_start()
    character(len=512) :: path
    integer :: length, status
    call get_environment_variable('CRTEST_START_LOG', path, length, status)
    if (status /= 0 .or. length == 0) return
    open (unit=20, file=path(1:length), position='append', action='write')
    write (20, '(a)') 'fortran_scratch started'
    close (20)
  end subroutine
end program
